package metricsadapter

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// podsResource is the only resource the Provider serves.
var podsResource = schema.GroupResource{Resource: "pods"}

// Provider serves a Store as custom.metrics.k8s.io per-pod metrics. It asks
// the API server (through a pod lister) which pods a selector matches, as the
// HPA controller expects, and answers for those that have a fresh value;
// pods being deleted are skipped. Values are quantities in milli-units, so
// 0.5 is served as 500m.
type Provider struct {
	store *Store
	pods  corelisters.PodLister
}

var _ provider.CustomMetricsProvider = (*Provider)(nil)

// NewProvider returns a provider that reads values from store and pods from
// pods, typically a shared informer's lister.
func NewProvider(store *Store, pods corelisters.PodLister) *Provider {
	return &Provider{store: store, pods: pods}
}

// ListAllMetrics lists every metric ever scraped as a namespaced pods metric.
func (p *Provider) ListAllMetrics() []provider.CustomMetricInfo {
	names := p.store.Metrics()
	out := make([]provider.CustomMetricInfo, 0, len(names))
	for _, n := range names {
		out = append(out, provider.CustomMetricInfo{GroupResource: podsResource, Namespaced: true, Metric: n})
	}
	return out
}

// GetMetricByName returns the value of one pod, or a NotFound error when the
// resource is not pods, the pod does not exist or is being deleted, or it has
// no fresh value matching metricSelector.
func (p *Provider) GetMetricByName(_ context.Context, name types.NamespacedName, info provider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValue, error) {
	if !servesPods(info) {
		return nil, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
	}
	pod, err := p.pods.Pods(name.Namespace).Get(name.Name)
	if apierrors.IsNotFound(err) {
		return nil, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
	}
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("get pod %s/%s: %w", name.Namespace, name.Name, err))
	}
	if pod.DeletionTimestamp != nil {
		return nil, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
	}
	pt, ok := p.store.Lookup(Key{Metric: info.Metric, Namespace: name.Namespace, Pod: name.Name}, metricSelector)
	if !ok {
		if !isEverything(metricSelector) {
			return nil, provider.NewMetricNotFoundForSelectorError(info.GroupResource, info.Metric, name.Name, metricSelector)
		}
		return nil, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
	}
	return p.value(name, info.Metric, pt, metricSelector)
}

// GetMetricBySelector returns a value for every pod in namespace that matches
// selector, is not being deleted and has a fresh value. A metric never
// scraped, or a resource other than pods, is NotFound; a known metric with no
// fresh value for any matching pod is an empty list, which the HPA reports as
// "no metrics returned".
func (p *Provider) GetMetricBySelector(_ context.Context, namespace string, selector labels.Selector, info provider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValueList, error) {
	if !servesPods(info) || !p.store.Known(info.Metric) {
		return nil, provider.NewMetricNotFoundError(info.GroupResource, info.Metric)
	}
	if selector == nil {
		selector = labels.Everything()
	}
	pods, err := p.pods.Pods(namespace).List(selector)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("list pods in %s matching %q: %w", namespace, selector, err))
	}
	slices.SortFunc(pods, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	list := &custom_metrics.MetricValueList{Items: make([]custom_metrics.MetricValue, 0, len(pods))}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		pt, ok := p.store.Lookup(Key{Metric: info.Metric, Namespace: namespace, Pod: pod.Name}, metricSelector)
		if !ok {
			continue
		}
		mv, err := p.value(types.NamespacedName{Namespace: namespace, Name: pod.Name}, info.Metric, pt, metricSelector)
		if err != nil {
			return nil, err
		}
		list.Items = append(list.Items, *mv)
	}
	return list, nil
}

// value builds the API object for one pod's point.
func (p *Provider) value(name types.NamespacedName, metric string, pt Point, metricSelector labels.Selector) (*custom_metrics.MetricValue, error) {
	window := int64(math.Ceil(p.store.Window().Seconds()))
	mv := &custom_metrics.MetricValue{
		DescribedObject: custom_metrics.ObjectReference{
			Kind:       "Pod",
			APIVersion: "v1",
			Namespace:  name.Namespace,
			Name:       name.Name,
		},
		Metric:        custom_metrics.MetricIdentifier{Name: metric},
		Timestamp:     metav1.NewTime(pt.At),
		WindowSeconds: &window,
		Value:         Quantity(pt.Value),
	}
	if !isEverything(metricSelector) {
		sel, err := metav1.ParseToLabelSelector(metricSelector.String())
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("metric label selector %q: %v", metricSelector, err))
		}
		mv.Metric.Selector = sel
	}
	return mv, nil
}

// Quantity converts v to a milli-unit quantity, the form HPA values take
// (0.5 becomes 500m). Values beyond what int64 milli-units hold are clamped.
func Quantity(v float64) resource.Quantity {
	m := math.Round(v * 1000)
	var milli int64
	switch {
	case m >= math.MaxInt64: // float64(MaxInt64) is 2^63, one past the largest int64
		milli = math.MaxInt64
	case m <= math.MinInt64:
		milli = math.MinInt64
	default:
		milli = int64(m)
	}
	return *resource.NewMilliQuantity(milli, resource.DecimalSI)
}

func servesPods(info provider.CustomMetricInfo) bool {
	return info.Namespaced && info.GroupResource == podsResource
}

func isEverything(sel labels.Selector) bool {
	return sel == nil || sel.Empty()
}
