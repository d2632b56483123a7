package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Op says what a Message asks of a sink.
type Op string

const (
	// OpWrite carries points (line protocol, nanosecond times).
	OpWrite Op = "write"
	// OpDropMeasurement removes a measurement (a ClickHouse table).
	OpDropMeasurement Op = "drop_measurement"
	// OpDropDatabase removes everything of a database.
	OpDropDatabase Op = "drop_database"
	// OpWriteDocuments carries a document write (documents.Service.Prepare's
	// output); DB is then the workspace uuid.
	OpWriteDocuments Op = "write_documents"
)

// Message is one unit of work for a sink.
type Message struct {
	Op          Op     `json:"op"`
	DB          string `json:"db"`
	Measurement string `json:"measurement,omitempty"`
	// Kind, Source and Precision describe a document write.
	Kind      string `json:"kind,omitempty"`
	Source    string `json:"source,omitempty"`
	Precision string `json:"precision,omitempty"`
	// Lines is line protocol with nanosecond timestamps (OpWrite).
	Lines []byte `json:"-"`
}

// magic starts every encoded message, so a foreign message on the topic
// is refused rather than misread.
const magic = "KODOQ1\n"

// Encode gives m its wire form: magic, a JSON header line, then Lines.
func Encode(m Message) ([]byte, error) {
	if m.DB == "" {
		return nil, errors.New("queue: message without a database")
	}
	head, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(magic)+len(head)+1+len(m.Lines))
	out = append(out, magic...)
	out = append(out, head...)
	out = append(out, '\n')
	return append(out, m.Lines...), nil
}

// Decode reads a message written by Encode. Lines aliases b.
func Decode(b []byte) (Message, error) {
	var m Message
	rest, ok := bytes.CutPrefix(b, []byte(magic))
	if !ok {
		return m, errors.New("queue: not a Kodo sink message")
	}
	head, lines, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return m, errors.New("queue: message header is not terminated")
	}
	if err := json.Unmarshal(head, &m); err != nil {
		return m, fmt.Errorf("queue: message header: %w", err)
	}
	switch m.Op {
	case OpWrite, OpDropMeasurement, OpDropDatabase, OpWriteDocuments:
	default:
		return m, fmt.Errorf("queue: unknown operation %q", m.Op)
	}
	if m.DB == "" {
		return m, errors.New("queue: message without a database")
	}
	m.Lines = lines
	return m, nil
}
