package metricsadapter

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

func pod(ns, name string, lbls map[string]string, deleting bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}}
	if deleting {
		now := metav1.NewTime(t0)
		p.DeletionTimestamp = &now
	}
	return p
}

// podLister returns a lister over pods, the way an informer's cache holds them.
func podLister(t *testing.T, pods ...*corev1.Pod) corelisters.PodLister {
	t.Helper()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, p := range pods {
		if err := idx.Add(p); err != nil {
			t.Fatalf("add pod: %v", err)
		}
	}
	return corelisters.NewPodLister(idx)
}

var (
	podsInfo = func(metric string) provider.CustomMetricInfo {
		return provider.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "pods"}, Namespaced: true, Metric: metric}
	}
	nim = map[string]string{"app": "nim"}
)

func newTestProvider(t *testing.T) (*Provider, *clocktesting.FakeClock) {
	t.Helper()
	clk := clocktesting.NewFakeClock(t0)
	st := NewStore(3*time.Second, time.Second, clk)
	st.Put("http://a/metrics", t0, []Sample{
		{Metric: "nim_queue_depth", Namespace: "prod", Pod: "nim-a", Value: 7},
		{Metric: "nim_queue_depth", Namespace: "prod", Pod: "nim-b", Value: 0.5},
		{Metric: "nim_queue_depth", Namespace: "prod", Pod: "nim-gone", Value: 99},
		{Metric: "nim_queue_depth", Namespace: "prod", Pod: "other", Value: 1},
		{Metric: "nim_queue_depth", Namespace: "staging", Pod: "nim-a", Value: 42},
		{Metric: "num_requests_waiting", Namespace: "prod", Pod: "nim-a", Labels: map[string]string{"model_name": "llama"}, Value: 3},
		{Metric: "num_requests_waiting", Namespace: "prod", Pod: "nim-a", Labels: map[string]string{"model_name": "mistral"}, Value: 4.25},
	})
	pods := podLister(t,
		pod("prod", "nim-a", nim, false),
		pod("prod", "nim-b", nim, false),
		pod("prod", "nim-c", nim, false), // no value yet
		pod("prod", "nim-gone", nim, true),
		pod("prod", "other", map[string]string{"app": "other"}, false),
		pod("staging", "nim-a", nim, false),
	)
	return NewProvider(st, pods), clk
}

func TestProviderGetMetricBySelector(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		selector  string
		metricSel string
		info      provider.CustomMetricInfo
		want      map[string]string // pod -> quantity
		notFound  bool
	}{
		{
			name:      "only matching pods with values, deleting pods skipped",
			namespace: "prod", selector: "app=nim", info: podsInfo("nim_queue_depth"),
			want: map[string]string{"nim-a": "7", "nim-b": "500m"},
		},
		{
			name:      "other namespace",
			namespace: "staging", selector: "app=nim", info: podsInfo("nim_queue_depth"),
			want: map[string]string{"nim-a": "42"},
		},
		{
			name:      "series summed",
			namespace: "prod", selector: "app=nim", info: podsInfo("num_requests_waiting"),
			want: map[string]string{"nim-a": "7250m"},
		},
		{
			name:      "metric label selector picks series",
			namespace: "prod", selector: "app=nim", metricSel: "model_name=mistral", info: podsInfo("num_requests_waiting"),
			want: map[string]string{"nim-a": "4250m"},
		},
		{
			name:      "known metric, no pod has it",
			namespace: "prod", selector: "app=none", info: podsInfo("nim_queue_depth"),
			want: map[string]string{},
		},
		{
			name:      "unknown metric",
			namespace: "prod", selector: "app=nim", info: podsInfo("nope"),
			notFound: true,
		},
		{
			name:      "not pods",
			namespace: "prod", selector: "app=nim",
			info:     provider.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "services"}, Namespaced: true, Metric: "nim_queue_depth"},
			notFound: true,
		},
	}
	p, _ := newTestProvider(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := labels.Parse(tc.selector)
			if err != nil {
				t.Fatal(err)
			}
			msel, err := labels.Parse(tc.metricSel)
			if err != nil {
				t.Fatal(err)
			}
			list, err := p.GetMetricBySelector(context.Background(), tc.namespace, sel, tc.info, msel)
			if tc.notFound {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want NotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetMetricBySelector: %v", err)
			}
			got := map[string]string{}
			for _, mv := range list.Items {
				got[mv.DescribedObject.Name] = mv.Value.String()
				if mv.DescribedObject.Kind != "Pod" || mv.DescribedObject.Namespace != tc.namespace {
					t.Errorf("described object %+v", mv.DescribedObject)
				}
				if mv.Metric.Name != tc.info.Metric || !mv.Timestamp.Time.Equal(t0) || mv.WindowSeconds == nil || *mv.WindowSeconds != 1 {
					t.Errorf("value %+v: want metric %s at t0, window 1s", mv, tc.info.Metric)
				}
				if tc.metricSel != "" && (mv.Metric.Selector == nil || mv.Metric.Selector.MatchLabels["model_name"] != "mistral") {
					t.Errorf("metric selector not echoed: %+v", mv.Metric.Selector)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("pod %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestProviderGetMetricByName(t *testing.T) {
	tests := []struct {
		name     string
		pod      types.NamespacedName
		info     provider.CustomMetricInfo
		want     string
		notFound bool
	}{
		{name: "value", pod: types.NamespacedName{Namespace: "prod", Name: "nim-b"}, info: podsInfo("nim_queue_depth"), want: "500m"},
		{name: "pod without value", pod: types.NamespacedName{Namespace: "prod", Name: "nim-c"}, info: podsInfo("nim_queue_depth"), notFound: true},
		{name: "unknown pod", pod: types.NamespacedName{Namespace: "prod", Name: "ghost"}, info: podsInfo("nim_queue_depth"), notFound: true},
		{name: "deleting pod", pod: types.NamespacedName{Namespace: "prod", Name: "nim-gone"}, info: podsInfo("nim_queue_depth"), notFound: true},
		{name: "unknown metric", pod: types.NamespacedName{Namespace: "prod", Name: "nim-a"}, info: podsInfo("nope"), notFound: true},
		{
			name:     "not pods",
			pod:      types.NamespacedName{Namespace: "prod", Name: "nim-a"},
			info:     provider.CustomMetricInfo{GroupResource: schema.GroupResource{Group: "apps", Resource: "deployments"}, Namespaced: true, Metric: "nim_queue_depth"},
			notFound: true,
		},
	}
	p, _ := newTestProvider(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mv, err := p.GetMetricByName(context.Background(), tc.pod, tc.info, labels.Everything())
			if tc.notFound {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want NotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetMetricByName: %v", err)
			}
			if got := mv.Value.String(); got != tc.want {
				t.Errorf("value = %s, want %s", got, tc.want)
			}
			if mv.DescribedObject.Name != tc.pod.Name || !mv.Timestamp.Time.Equal(t0) {
				t.Errorf("value %+v", mv)
			}
		})
	}
}

func TestProviderDropsAgedValues(t *testing.T) {
	p, clk := newTestProvider(t)
	clk.Step(3*time.Second + time.Nanosecond)
	list, err := p.GetMetricBySelector(context.Background(), "prod", labels.Everything(), podsInfo("nim_queue_depth"), labels.Everything())
	if err != nil {
		t.Fatalf("GetMetricBySelector: %v", err)
	}
	if len(list.Items) != 0 {
		t.Errorf("aged values served: %+v", list.Items)
	}
	_, err = p.GetMetricByName(context.Background(), types.NamespacedName{Namespace: "prod", Name: "nim-a"}, podsInfo("nim_queue_depth"), labels.Everything())
	if !apierrors.IsNotFound(err) {
		t.Errorf("by name after max age: err = %v, want NotFound", err)
	}
}

func TestProviderListAllMetrics(t *testing.T) {
	p, _ := newTestProvider(t)
	got := p.ListAllMetrics()
	want := []string{"nim_queue_depth", "num_requests_waiting"}
	if len(got) != len(want) {
		t.Fatalf("ListAllMetrics = %v, want %v", got, want)
	}
	for i, info := range got {
		if info.Metric != want[i] || !info.Namespaced || info.GroupResource != (schema.GroupResource{Resource: "pods"}) {
			t.Errorf("ListAllMetrics[%d] = %v, want pods/%s(namespaced)", i, info, want[i])
		}
	}
}

func TestQuantity(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{name: "whole", in: 20, want: "20"},
		{name: "half", in: 0.5, want: "500m"},
		{name: "rounded to milli", in: 81.2345, want: "81235m"},
		{name: "zero", in: 0, want: "0"},
		{name: "negative", in: -1.5, want: "-1500m"},
		{name: "clamped", in: 1e300, want: "9223372036854775807m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := Quantity(tc.in)
			if got := q.String(); got != tc.want {
				t.Errorf("Quantity(%g) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}
