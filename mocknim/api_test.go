package mocknim

import "testing"

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"model":"meta/codellama-13b-instruct","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"prompt":["a","b"],"max_tokens":5}`,
		`{"prompt":[[1,2],[3]]}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"max_completion_tokens":0}`,
		`{"messages":`,
		`null`,
		`[]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, ep := range []endpoint{chatEndpoint, completionsEndpoint} {
			p, aerr := decode(ep, []byte(body))
			if aerr != nil {
				if aerr.status != 400 || aerr.msg == "" {
					t.Errorf("decode error %d %q", aerr.status, aerr.msg)
				}
				continue
			}
			if p.promptTokens < 1 || p.maxTokens < 0 {
				t.Errorf("decoded %+v: want at least one prompt token and no negative limit", p)
			}
		}
	})
}
