// Package jsonbody decodes JSON request bodies and explains what is wrong
// with one in the user's terms: the path of the offending value as the
// user wrote it ("measurements[1].aggr_every"), and JSON kinds ("a
// string", "an array") instead of Go type names.
package jsonbody
