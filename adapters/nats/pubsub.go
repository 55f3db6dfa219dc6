package nats

import (
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
)

// NewPublisher returns a JetStream publisher for events on nc (which it owns).
// Each message's UUID (the event ID) becomes its Nats-Msg-Id, so a stream
// drops a repeated relay of the same event within its duplicate window; that
// needs the default NATSMarshaler, which carries metadata as headers. Streams
// exist from start-up, so publishing never looks them up.
func NewPublisher(nc *natsgo.Conn, logger watermill.LoggerAdapter) (*wmnats.Publisher, error) {
	return newPublisher(nc, true, logger)
}

// NewPoisonPublisher returns a JetStream publisher for the poison stream. It
// sets no Nats-Msg-Id: a message poisoned again after a requeue must not be
// dropped as a duplicate of its first poisoning.
func NewPoisonPublisher(nc *natsgo.Conn, logger watermill.LoggerAdapter) (*wmnats.Publisher, error) {
	return newPublisher(nc, false, logger)
}

func newPublisher(nc *natsgo.Conn, trackMsgID bool, logger watermill.LoggerAdapter) (*wmnats.Publisher, error) {
	pub, err := wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler:         &wmnats.NATSMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			AutoProvision: false,
			TrackMsgId:    trackMsgID,
		},
	}, logger)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("create JetStream publisher: %w", err)
	}
	return pub, nil
}

// backoffDelay doubles the nack delay with every delivery.
type backoffDelay struct{ first, max time.Duration }

func (d backoffDelay) WaitTime(delivered uint64) time.Duration {
	wait := d.first
	for i := uint64(1); i < delivered && wait < d.max; i++ {
		wait *= 2
	}
	return min(wait, d.max)
}

// lenientUnmarshaler is NATSMarshaler's decoding, except that a header sent
// with several values keeps its first instead of failing: a message that
// cannot be unmarshaled would never be acked or nacked, and so be redelivered
// forever instead of reaching the router, which poisons what it cannot decode.
type lenientUnmarshaler struct{}

func (lenientUnmarshaler) Unmarshal(m *natsgo.Msg) (*message.Message, error) {
	msg := message.NewMessage(m.Header.Get(wmnats.WatermillUUIDHdr), m.Data)
	for k, v := range m.Header {
		switch k {
		case wmnats.WatermillUUIDHdr, natsgo.MsgIdHdr, natsgo.ExpectedLastMsgIdHdr, natsgo.ExpectedStreamHdr,
			natsgo.ExpectedLastSubjSeqHdr, natsgo.ExpectedLastSeqHdr:
			continue
		}
		if len(v) > 0 {
			msg.Metadata.Set(k, v[0])
		}
	}
	return msg, nil
}
