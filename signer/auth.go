package signer

import (
	"strings"
)

// Scheme is an Authorization scheme, spelled as the clients send it.
type Scheme string

// The schemes this package signs and verifies.
const (
	SchemeDataflux Scheme = "DATAFLUX"
	SchemeDway     Scheme = "DWAY"
	SchemePandora  Scheme = "Pandora"
)

// Credentials is a parsed Authorization header.
type Credentials struct {
	Scheme Scheme
	// ID is the token (DATAFLUX), the key id (DWAY) or the access key (Pandora).
	ID string
	// Signature is the encoded HMAC, exactly as sent.
	Signature string
	// TokenDesc is the encoded token description of a Pandora token
	// ("Pandora <ak>:<sig>:<desc>"); "" for every other form.
	TokenDesc string
}

// SchemeOf returns the scheme of an Authorization header value, or "" when
// it is none of DATAFLUX, DWAY or Pandora. Scheme names match
// case-insensitively (RFC 9110 section 11.1). It does not validate the rest.
func SchemeOf(authorization string) Scheme {
	name, _, _ := strings.Cut(strings.TrimLeft(authorization, " \t"), " ")
	switch {
	case strings.EqualFold(name, string(SchemeDataflux)):
		return SchemeDataflux
	case strings.EqualFold(name, string(SchemeDway)):
		return SchemeDway
	case strings.EqualFold(name, string(SchemePandora)):
		return SchemePandora
	}
	return ""
}

// ParseAuthorization splits an Authorization header value into its scheme
// and credentials. It checks the shape only (non-empty parts, the number of
// colons); signature length and encoding are checked by the verifiers.
func ParseAuthorization(authorization string) (Credentials, error) {
	if strings.TrimSpace(authorization) == "" {
		return Credentials{}, newErr(ErrMissingHeader, "", "Authorization", "header is empty")
	}
	scheme := SchemeOf(authorization)
	if scheme == "" {
		name, _, _ := strings.Cut(strings.TrimSpace(authorization), " ")
		return Credentials{}, newErr(ErrBadFormat, "", "Authorization",
			"unsupported scheme %q; want DATAFLUX, DWAY or Pandora", truncate(name, 32))
	}
	_, rest, _ := strings.Cut(strings.TrimLeft(authorization, " \t"), " ")
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return Credentials{}, newErr(ErrBadFormat, scheme, "Authorization", "no credentials after the scheme name")
	}
	c := Credentials{Scheme: scheme}
	if scheme == SchemePandora {
		// AK, signature and description never contain ':' (URL-safe
		// base64), so two or three parts are the only valid shapes.
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 2:
			c.ID, c.Signature = parts[0], parts[1]
		case 3:
			c.ID, c.Signature, c.TokenDesc = parts[0], parts[1], parts[2]
			if c.TokenDesc == "" {
				return Credentials{}, newErr(ErrBadFormat, scheme, "Authorization", "empty token description in <ak>:<sig>:<desc>")
			}
		default:
			return Credentials{}, newErr(ErrBadFormat, scheme, "Authorization",
				"want <ak>:<sig> or <ak>:<sig>:<desc>, got %d colon-separated parts", len(parts))
		}
	} else {
		// The signature is base64 and has no ':'; split at the last one so
		// an id that happens to contain ':' still parses.
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return Credentials{}, newErr(ErrBadFormat, scheme, "Authorization", "want <id>:<signature>, found no ':'")
		}
		c.ID, c.Signature = rest[:i], rest[i+1:]
	}
	if c.ID == "" {
		return Credentials{}, newErr(ErrBadFormat, scheme, "Authorization", "empty key id before ':'")
	}
	if c.Signature == "" {
		return Credentials{}, newErr(ErrBadFormat, scheme, "Authorization", "empty signature")
	}
	if strings.ContainsAny(c.ID, " \t") || strings.ContainsAny(c.Signature, " \t") {
		return Credentials{}, newErr(ErrBadFormat, scheme, "Authorization", "whitespace inside the credentials")
	}
	return c, nil
}

// truncate keeps error messages bounded when echoing client input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
