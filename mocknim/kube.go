package mocknim

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// DeploymentPods follows the pods of a Deployment through the API server: a
// pod serves once its Ready condition is True, stops taking requests when it
// is not Ready or is being deleted, and is removed (drained) when it is
// deleted or has terminated.
type DeploymentPods struct {
	Client     kubernetes.Interface
	Namespace  string
	Deployment string
	// PollInterval is how often Run looks again for a Deployment that does
	// not exist yet. Zero: 2s.
	PollInterval time.Duration
	// Clock paces that polling. Nil: the real clock.
	Clock clock.WithTicker
	// Log receives watch trouble. Nil: discarded.
	Log *slog.Logger
}

// Run waits for the Deployment, then watches the pods its selector matches
// until ctx ends. Only NotFound means "keep waiting"; any other error from
// the API server ends Run.
func (dp DeploymentPods) Run(ctx context.Context, sink PodSink) error {
	if dp.Clock == nil {
		dp.Clock = clock.RealClock{}
	}
	if dp.Log == nil {
		dp.Log = slog.New(slog.DiscardHandler)
	}
	if dp.PollInterval <= 0 {
		dp.PollInterval = 2 * time.Second
	}
	selector, err := dp.selector(ctx)
	if err != nil || ctx.Err() != nil {
		return err
	}

	factory := informers.NewSharedInformerFactoryWithOptions(dp.Client, 0,
		informers.WithNamespace(dp.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	inf := factory.Core().V1().Pods().Informer()
	if err := inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		dp.Log.Warn("pod watch interrupted; relisting", "namespace", dp.Namespace, "selector", selector, "err", err)
	}); err != nil {
		return fmt.Errorf("set pod watch error handler: %w", err)
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { observe(sink, obj) },
		UpdateFunc: func(_, obj any) { observe(sink, obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				sink.RemovePod(p.Name)
			}
		},
	}); err != nil {
		return fmt.Errorf("watch pods of deployment %s/%s: %w", dp.Namespace, dp.Deployment, err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	<-ctx.Done()
	return nil
}

// selector waits for the Deployment and returns its pod selector.
func (dp DeploymentPods) selector(ctx context.Context) (string, error) {
	for {
		d, err := dp.Client.AppsV1().Deployments(dp.Namespace).Get(ctx, dp.Deployment, metav1.GetOptions{})
		switch {
		case err == nil:
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil {
				return "", fmt.Errorf("selector of deployment %s/%s: %w", dp.Namespace, dp.Deployment, err)
			}
			return sel.String(), nil
		case ctx.Err() != nil:
			return "", nil
		case !apierrors.IsNotFound(err):
			return "", fmt.Errorf("get deployment %s/%s: %w", dp.Namespace, dp.Deployment, err)
		}
		dp.Log.Info("waiting for deployment", "namespace", dp.Namespace, "deployment", dp.Deployment)
		t := dp.Clock.NewTimer(dp.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", nil
		case <-t.C():
		}
	}
}

// observe turns one pod's state into a sink call.
func observe(sink PodSink, obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		sink.RemovePod(p.Name)
		return
	}
	sink.SetPod(p.Name, podReady(p))
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
