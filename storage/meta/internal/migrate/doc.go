// Package migrate loads the numbered SQL migrations embedded by the meta
// backends. Each backend applies them itself (the locking differs between
// SQLite and PostgreSQL); this package only turns a directory of
// "NNNN_name.sql" files into an ordered, validated list.
package migrate
