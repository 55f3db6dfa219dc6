package command_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/thoughts-project/thoughts/app/command"
	"github.com/thoughts-project/thoughts/app/domain"
	"github.com/thoughts-project/thoughts/app/events"
)

// errTouched stops a handler at its first use of storage.
var errTouched = errors.New("storage touched")

// touchOnly is a notification store that counts every use and fails it.
type touchOnly struct{ calls int }

func (u *touchOnly) InTx(context.Context, func(context.Context, command.Tx) error) error {
	u.calls++
	return errTouched
}

func (u *touchOnly) Notifications() command.TxNotifications { return touchedNotifications{u: u} }

// touchedNotifications fails each lookup and write the handler may make; the
// nil embedded interface stands for the read-marking it never calls.
type touchedNotifications struct {
	command.TxNotifications
	u *touchOnly
}

func (n touchedNotifications) touch() error { n.u.calls++; return errTouched }

func (n touchedNotifications) Add(context.Context, domain.Notification) (bool, error) {
	return false, n.touch()
}

func (n touchedNotifications) AddToAuthor(context.Context, domain.Notification) (bool, error) {
	return false, n.touch()
}

func (n touchedNotifications) AddManyToAuthor(context.Context, []domain.Notification) (int64, error) {
	return 0, n.touch()
}

func (n touchedNotifications) DeleteAboutThought(context.Context, uuid.UUID) (int64, error) {
	return 0, n.touch()
}

func (n touchedNotifications) Thought(context.Context, uuid.UUID) (domain.Thought, error) {
	return domain.Thought{}, n.touch()
}

func (n touchedNotifications) UserIDsByUsername(context.Context, []string) (map[string]uuid.UUID, error) {
	return nil, n.touch()
}

// everyEvent returns one event of each catalogue type, every ID field set.
func everyEvent(t *testing.T) []events.Event {
	t.Helper()
	var out []events.Event
	for _, typ := range events.Types() {
		ev, err := events.Unmarshal([]byte(`{"type":"` + typ + `","data":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		v := reflect.New(reflect.TypeOf(ev)).Elem()
		for i := range v.NumField() {
			switch f := v.Field(i); f.Type() {
			case reflect.TypeOf(uuid.UUID{}):
				f.Set(reflect.ValueOf(uuid.New()))
			case reflect.TypeOf(&uuid.UUID{}):
				id := uuid.New()
				f.Set(reflect.ValueOf(&id))
			}
		}
		out = append(out, v.Interface().(events.Event))
	}
	return out
}

// TestNotifyHandlerDeclaresExactlyWhatItActsOn: the router subscribes the
// handler to the topics of the events it declares, so an event it acts on but
// does not declare would never reach it, and one it declares but ignores
// costs a consumer that only acks. Every declared type reaches storage; every
// other type is a no-op.
func TestNotifyHandlerDeclaresExactlyWhatItActsOn(t *testing.T) {
	t.Parallel()
	declared := map[string]bool{}
	for _, ev := range (command.NotifyHandler{}).Events() {
		if !slices.Contains(events.Types(), ev.EventType()) {
			t.Errorf("declares %s, which is not in the catalogue", ev.EventType())
		}
		declared[ev.EventType()] = true
	}
	for _, ev := range everyEvent(t) {
		uow := &touchOnly{}
		h := command.NotifyHandler{UoW: uow, Clock: command.SystemClock}
		env := events.Envelope{ID: uuid.New(), Event: ev}
		err := h.Handle(context.Background(), env)
		switch {
		case declared[ev.EventType()] && (uow.calls == 0 || !errors.Is(err, errTouched)):
			t.Errorf("%s is declared but Handle did nothing with it (err %v)", ev.EventType(), err)
		case !declared[ev.EventType()] && (uow.calls != 0 || err != nil):
			t.Errorf("%s is not declared but Handle acted on it (err %v)", ev.EventType(), err)
		}
	}
}
