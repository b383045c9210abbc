package main

import (
	"context"
	"errors"

	"github.com/scalegate/scalegate/validator"
)

// Exit codes. They are part of the command-line contract: scripts and CI
// jobs branch on them, so a code is never reused for another meaning.
const (
	ExitOK           = 0   // every promise passed, or the command succeeded
	ExitFail         = 1   // at least one promise failed
	ExitUsage        = 2   // bad flag, argument or profile
	ExitInconclusive = 3   // the run ended before the promises could be decided
	ExitEnvironment  = 4   // cluster, RBAC or endpoint unreachable or misconfigured
	ExitInterrupted  = 130 // interrupted; what was recorded was still written
)

// UsageError marks a mistake in how the command was called.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// EnvError marks an environment that cannot be used: an unreachable cluster or
// endpoint, a missing object, missing permissions.
type EnvError struct{ Err error }

func (e *EnvError) Error() string { return e.Err.Error() }
func (e *EnvError) Unwrap() error { return e.Err }

// exitCode maps the outcome of a command to the process exit code. It is the
// only place that knows the mapping.
func exitCode(ctx context.Context, err error) int {
	var usage *UsageError
	var env *EnvError
	var verdict *VerdictError
	switch {
	case err == nil:
		return ExitOK
	case ctx.Err() != nil:
		return ExitInterrupted
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &env):
		return ExitEnvironment
	case errors.As(err, &verdict) && verdict.Status == validator.Inconclusive:
		return ExitInconclusive
	case errors.As(err, &verdict):
		return ExitFail
	case isFlagError(err):
		return ExitUsage
	default:
		// Anything unclassified (a disk that is full, a folder that cannot
		// be created) is the environment's, never a failed promise.
		return ExitEnvironment
	}
}
