// Package docstest is the conformance suite every docs.Store
// implementation passes: Run writes objects, key events and logs through
// the docs.Store interface and checks what Search answers (workspace and
// kind isolation, time ranges, sorting and paging, tag, field and builtin
// equality, full text, idempotent retries, object replacement, typed
// round trips, input validation).
//
// The suite uses fresh random workspace uuids in every subtest, so it can
// run against a shared cluster; the store given by newStore must make
// acknowledged writes visible to Search (Elasticsearch: refresh on write).
package docstest
