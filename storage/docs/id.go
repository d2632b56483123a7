package docs

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"strconv"
)

// DocID is the identity of a document in both stores: objects are
// identified by workspace, class and name (a newer write replaces the
// older), other kinds by their time and a hash of all their content, so
// a retried batch is stored once.
func DocID(workspaceUUID string, kind Kind, d *Document) []byte {
	h := sha256.New()
	w := func(s string) {
		var n [8]byte
		l := len(s)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		io.WriteString(h, s)
	}
	w(workspaceUUID)
	w(string(kind))
	w(d.Class)
	w(d.Name)
	if kind != KindObject {
		w(d.Source)
		w(strconv.FormatInt(d.Time, 10))
		w(d.Content)
		tags, _ := json.Marshal(d.Tags) // maps marshal with sorted keys
		h.Write(tags)
		fields, _ := AppendFieldsJSON(nil, d.Fields)
		h.Write(fields)
	}
	if kind == KindObject {
		return h.Sum(nil)[:16]
	}
	// Logs and events start with their time so the unique index grows at
	// its end, as data mostly arrives in time order, instead of dirtying
	// random pages of a large B-tree on every batch.
	id := make([]byte, 8, 24)
	t := uint64(d.Time) ^ 1<<63 // order-preserving for negative times
	for i := range 8 {
		id[i] = byte(t >> (56 - 8*i))
	}
	return h.Sum(id)[:24]
}
