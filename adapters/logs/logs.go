// Package logs builds the process's slog logger and adds the correlation ID of
// the work in hand to every record logged with a context.
package logs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/thoughts-project/thoughts/app/events"
)

// New returns a logger writing text or JSON at level, with correlation IDs.
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("LOG_FORMAT: %q is not one of text, json", format)
	}
	return slog.New(WithCorrelation(h)), nil
}

// WithCorrelation wraps h so records logged with a context carrying a
// correlation ID get a correlation_id attribute.
func WithCorrelation(h slog.Handler) slog.Handler { return correlationHandler{h} }

type correlationHandler struct{ slog.Handler }

func (h correlationHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := events.CorrelationID(ctx); id != "" {
		r.AddAttrs(slog.String("correlation_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h correlationHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return correlationHandler{h.Handler.WithAttrs(attrs)}
}

func (h correlationHandler) WithGroup(name string) slog.Handler {
	return correlationHandler{h.Handler.WithGroup(name)}
}

// Watermill adapts logger for Watermill, which logs at info what we consider
// debug (every subscription and handler start). Lines below the logger's
// level are dropped before their fields are converted: Watermill traces
// every message it receives, acks and publishes.
func Watermill(logger *slog.Logger) watermill.LoggerAdapter {
	return watermillLogger{
		LoggerAdapter: watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}),
		enabled:       logger.Handler().Enabled,
	}
}

type watermillLogger struct {
	watermill.LoggerAdapter
	enabled func(context.Context, slog.Level) bool
}

func (l watermillLogger) Info(msg string, fields watermill.LogFields) {
	if l.enabled(context.Background(), slog.LevelDebug) { // mapped to debug
		l.LoggerAdapter.Info(msg, fields)
	}
}

func (l watermillLogger) Debug(msg string, fields watermill.LogFields) {
	if l.enabled(context.Background(), slog.LevelDebug) {
		l.LoggerAdapter.Debug(msg, fields)
	}
}

func (l watermillLogger) Trace(msg string, fields watermill.LogFields) {
	if l.enabled(context.Background(), watermill.LevelTrace) {
		l.LoggerAdapter.Trace(msg, fields)
	}
}

func (l watermillLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return watermillLogger{LoggerAdapter: l.LoggerAdapter.With(fields), enabled: l.enabled}
}
