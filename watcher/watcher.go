package watcher

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/metrics/pkg/client/custom_metrics"
	"k8s.io/utils/clock"

	"github.com/scalegate/scalegate/timeline"
)

// Sink receives entries. It is called from several goroutines and must be
// safe for concurrent use; a Journal's Append is.
type Sink func(timeline.Entry)

// Config says what to watch.
type Config struct {
	Namespace  string
	Deployment string
	HPA        string
	// Selector selects the Deployment's pods (and ReplicaSets).
	Selector labels.Selector
	// Metrics are the Pods metrics the HPA uses; each is sampled.
	Metrics []string
	// SampleInterval is how often the metrics are sampled. Zero means 2 s.
	SampleInterval time.Duration
}

// Validate reports what is missing from c.
func (c Config) Validate() error {
	switch {
	case c.Namespace == "" || c.Deployment == "" || c.HPA == "":
		return errors.New("watcher: namespace, deployment and hpa are required")
	case c.Selector == nil || c.Selector.Empty():
		return errors.New("watcher: the pod selector is empty")
	case c.SampleInterval < 0:
		return errors.New("watcher: sample interval cannot be negative")
	}
	return nil
}

// Deps are the watcher's connections to the world.
type Deps struct {
	Client  kubernetes.Interface
	Metrics custom_metrics.CustomMetricsClient // nil: no sampling
	Clock   clock.WithTicker                   // nil: the real clock
	Sink    Sink
}

// Watcher records one run.
type Watcher struct {
	cfg   Config
	deps  Deps
	mu    sync.Mutex
	last  map[string]any // last recorded payload per object, to skip resyncs
	ready chan struct{}
}

// New returns a watcher; Run starts it.
func New(cfg Config, deps Deps) (*Watcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Client == nil || deps.Sink == nil {
		return nil, errors.New("watcher: a client and a sink are required")
	}
	if deps.Clock == nil {
		deps.Clock = clock.RealClock{}
	}
	if cfg.SampleInterval == 0 {
		cfg.SampleInterval = 2 * time.Second
	}
	return &Watcher{cfg: cfg, deps: deps, last: map[string]any{}, ready: make(chan struct{})}, nil
}

// Synced is closed once every informer has listed its objects.
func (w *Watcher) Synced() <-chan struct{} { return w.ready }

// Run watches until ctx is done. It returns an error only when the watch
// cannot start at all.
func (w *Watcher) Run(ctx context.Context) error {
	f := informers.NewSharedInformerFactoryWithOptions(w.deps.Client, 0, informers.WithNamespace(w.cfg.Namespace))
	type watched struct {
		name     string
		informer cache.SharedIndexInformer
		record   func(obj any, deleted bool)
	}
	ws := []watched{
		{"horizontalpodautoscalers", f.Autoscaling().V2().HorizontalPodAutoscalers().Informer(), w.recordHPA},
		{"deployments", f.Apps().V1().Deployments().Informer(), w.recordDeployment},
		{"replicasets", f.Apps().V1().ReplicaSets().Informer(), w.recordReplicaSet},
		{"pods", f.Core().V1().Pods().Informer(), w.recordPod},
		{"events", f.Core().V1().Events().Informer(), w.recordEvent},
	}
	for _, x := range ws {
		record := x.record
		if _, err := x.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { record(obj, false) },
			UpdateFunc: func(_, obj any) { record(obj, false) },
			DeleteFunc: func(obj any) {
				if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = tomb.Obj
				}
				record(obj, true)
			},
		}); err != nil {
			return fmt.Errorf("watch %s: %w", x.name, err)
		}
		resource := x.name
		if err := x.informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			w.emit(timeline.Entry{Kind: timeline.KindWatchGap, Ref: w.cfg.Namespace,
				Gap: &timeline.Gap{Resource: resource, Reason: err.Error()}})
		}); err != nil {
			return fmt.Errorf("watch %s: %w", x.name, err)
		}
	}
	f.Start(ctx.Done())
	defer f.Shutdown()
	for _, x := range ws {
		if !cache.WaitForCacheSync(ctx.Done(), x.informer.HasSynced) {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch %s in namespace %s: cache never synced", x.name, w.cfg.Namespace)
		}
	}
	close(w.ready)
	if w.deps.Metrics != nil && len(w.cfg.Metrics) > 0 {
		w.sample(ctx)
	}
	<-ctx.Done()
	return nil
}

// emit stamps e with our clock and hands it to the sink.
func (w *Watcher) emit(e timeline.Entry) {
	e.At = w.deps.Clock.Now()
	w.deps.Sink(e)
}

// changed records payload as the latest for key and reports whether it
// differs from the previous one, so informer resyncs add nothing.
func (w *Watcher) changed(key string, payload any) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if prev, ok := w.last[key]; ok && reflect.DeepEqual(prev, payload) {
		return false
	}
	w.last[key] = payload
	return true
}

func (w *Watcher) recordHPA(obj any, deleted bool) {
	h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok || h.Name != w.cfg.HPA {
		return
	}
	ref := h.Namespace + "/" + h.Name
	if deleted {
		w.emit(timeline.Entry{Kind: timeline.KindWatchGap, Ref: ref, Gap: &timeline.Gap{Resource: "horizontalpodautoscalers", Reason: "the HPA was deleted"}})
		return
	}
	st := &timeline.HPA{CurrentReplicas: h.Status.CurrentReplicas, DesiredReplicas: h.Status.DesiredReplicas}
	if h.Status.LastScaleTime != nil {
		st.LastScaleTime = h.Status.LastScaleTime.Time
	}
	for _, m := range h.Status.CurrentMetrics {
		if m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil && m.Pods.Current.AverageValue != nil {
			st.Metrics = append(st.Metrics, timeline.MetricValue{Name: m.Pods.Metric.Name, AverageValue: float64(m.Pods.Current.AverageValue.MilliValue()) / 1000})
		}
	}
	for _, c := range h.Status.Conditions {
		st.Conditions = append(st.Conditions, timeline.Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time})
	}
	if !w.changed("hpa/"+ref, st) {
		return
	}
	e := timeline.Entry{Kind: timeline.KindHPA, Ref: ref, HPA: st}
	if h.Status.LastScaleTime != nil {
		e.Server = h.Status.LastScaleTime.Time
	}
	w.emit(e)
}

func (w *Watcher) recordDeployment(obj any, deleted bool) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok || d.Name != w.cfg.Deployment {
		return
	}
	ref := d.Namespace + "/" + d.Name
	if deleted {
		w.emit(timeline.Entry{Kind: timeline.KindWatchGap, Ref: ref, Gap: &timeline.Gap{Resource: "deployments", Reason: "the Deployment was deleted"}})
		return
	}
	st := &timeline.Deployment{Replicas: d.Status.Replicas, ReadyReplicas: d.Status.ReadyReplicas, AvailableReplicas: d.Status.AvailableReplicas}
	if d.Spec.Replicas != nil {
		st.SpecReplicas = *d.Spec.Replicas
	}
	if w.changed("deployment/"+ref, st) {
		w.emit(timeline.Entry{Kind: timeline.KindDeployment, Ref: ref, Deployment: st})
	}
}

func (w *Watcher) recordReplicaSet(obj any, deleted bool) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok || !w.cfg.Selector.Matches(labels.Set(rs.Spec.Template.Labels)) {
		return
	}
	ref := rs.Namespace + "/" + rs.Name
	st := &timeline.ReplicaSet{Replicas: rs.Status.Replicas, ReadyReplicas: rs.Status.ReadyReplicas}
	if rs.Spec.Replicas != nil {
		st.SpecReplicas = *rs.Spec.Replicas
	}
	if deleted {
		st = &timeline.ReplicaSet{}
	}
	if w.changed("replicaset/"+ref, st) {
		w.emit(timeline.Entry{Kind: timeline.KindReplicaSet, Ref: ref, Server: rs.CreationTimestamp.Time, ReplicaSet: st})
	}
}

func (w *Watcher) recordPod(obj any, deleted bool) {
	p, ok := obj.(*corev1.Pod)
	if !ok || !w.cfg.Selector.Matches(labels.Set(p.Labels)) {
		return
	}
	ref := p.Namespace + "/" + p.Name
	st := podState(p)
	if deleted && st.Deleted.IsZero() {
		st.Deleted = w.deps.Clock.Now()
	}
	if deleted {
		st.Phase = "Deleted"
	}
	if w.changed("pod/"+ref, st) {
		w.emit(timeline.Entry{Kind: timeline.KindPod, Ref: ref, Server: p.CreationTimestamp.Time, Pod: st})
	}
}

// podState reads a pod's lifecycle from its status and conditions.
func podState(p *corev1.Pod) *timeline.Pod {
	st := &timeline.Pod{Name: p.Name, Phase: string(p.Status.Phase), Created: p.CreationTimestamp.Time}
	if p.Status.StartTime != nil && p.Status.Phase == corev1.PodRunning {
		st.Running = p.Status.StartTime.Time
	}
	for _, c := range p.Status.Conditions {
		switch c.Type {
		case corev1.PodScheduled:
			if c.Status == corev1.ConditionTrue {
				st.Scheduled = c.LastTransitionTime.Time
			}
		case corev1.PodReady:
			if c.Status == corev1.ConditionTrue {
				st.Ready, st.ReadyAt = true, c.LastTransitionTime.Time
			}
		}
	}
	if p.DeletionTimestamp != nil {
		st.Deleted = p.DeletionTimestamp.Time
	}
	return st
}

func (w *Watcher) recordEvent(obj any, deleted bool) {
	ev, ok := obj.(*corev1.Event)
	if !ok || deleted {
		return
	}
	o := ev.InvolvedObject
	switch {
	case o.Kind == "HorizontalPodAutoscaler" && o.Name == w.cfg.HPA:
	case o.Kind == "Deployment" && o.Name == w.cfg.Deployment:
	default:
		return
	}
	// An event object is updated when it repeats (count goes up): key on
	// the count so each repetition is recorded once.
	key := fmt.Sprintf("event/%s/%d", ev.Name, ev.Count)
	if !w.changed(key, true) {
		return
	}
	server := ev.LastTimestamp.Time
	if server.IsZero() {
		server = ev.EventTime.Time
	}
	ref := o.Namespace + "/" + o.Name
	if o.Kind == "HorizontalPodAutoscaler" && ev.Reason == "SuccessfulRescale" {
		var size int32
		if _, err := fmt.Sscanf(ev.Message, "New size: %d;", &size); err == nil {
			w.emit(timeline.Entry{Kind: timeline.KindRescale, Ref: ref, Server: server,
				Rescale: &timeline.Rescale{NewSize: size, Reason: ev.Reason, Message: ev.Message}})
			return
		}
	}
	w.emit(timeline.Entry{Kind: timeline.KindHPAEvent, Ref: ref, Server: server,
		Event: &timeline.Event{Type: ev.Type, Reason: ev.Reason, Message: ev.Message, Count: ev.Count}})
}

// sample reads every metric every SampleInterval until ctx is done.
func (w *Watcher) sample(ctx context.Context) {
	t := w.deps.Clock.NewTicker(w.cfg.SampleInterval)
	defer t.Stop()
	for {
		w.SampleOnce()
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

var podKind = schema.GroupKind{Kind: "Pod"}

// SampleOnce reads the per-pod values of each metric once and records them,
// or records the error (the adapter is the usual cause).
func (w *Watcher) SampleOnce() {
	for _, m := range w.cfg.Metrics {
		s := &timeline.Sample{Metric: m}
		list, err := w.deps.Metrics.NamespacedMetrics(w.cfg.Namespace).GetForObjects(podKind, w.cfg.Selector, m, labels.Everything())
		var newest time.Time
		switch {
		case err != nil:
			s.Err = err.Error()
		case len(list.Items) == 0:
			s.Err = "no metrics returned from custom metrics API"
		default:
			s.Pods = map[string]float64{}
			var milli int64
			for _, it := range list.Items {
				v := it.Value.MilliValue()
				s.Pods[it.DescribedObject.Name] = float64(v) / 1000
				milli += v
				if it.Timestamp.After(newest) {
					newest = it.Timestamp.Time
				}
			}
			// The HPA averages in integer milli-units; so do we.
			s.Average = float64(milli/int64(len(list.Items))) / 1000
		}
		w.emit(timeline.Entry{Kind: timeline.KindSample, Ref: w.cfg.Namespace, Server: newest, Sample: s})
	}
}
