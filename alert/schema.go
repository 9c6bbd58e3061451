package alert

import _ "embed" // for EventSchema

// EventSchema is the JSON Schema (draft 2020-12) of the "json" format's
// body, Event, with every field documented: receivers can validate against
// it or generate types from it, and wirewatch can serve it. Tests check
// that rendered events, ordinary and hostile, validate against it.
//
// It is a shared byte slice: do not modify it.
//
//go:embed event.schema.json
var EventSchema []byte

// DigestSchema is the JSON Schema (draft 2020-12) of a digest's body in the
// "json" format, DigestEvent; its alerts refer to EventSchema by $id.
//
// It is a shared byte slice: do not modify it.
//
//go:embed digest.schema.json
var DigestSchema []byte

// SourceHealthSchema is the JSON Schema (draft 2020-12) of a source.health
// event's body in the "json" format, SourceHealthEvent.
//
// It is a shared byte slice: do not modify it.
//
//go:embed source-health.schema.json
var SourceHealthSchema []byte
