package signer

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		in   string
		want Credentials
		code ErrorCode
	}{
		{in: "DATAFLUX tkn_1:abc=", want: Credentials{Scheme: SchemeDataflux, ID: "tkn_1", Signature: "abc="}},
		{in: "dataflux tkn_1:abc=", want: Credentials{Scheme: SchemeDataflux, ID: "tkn_1", Signature: "abc="}},
		{in: "  DWAY  ak:sig  ", want: Credentials{Scheme: SchemeDway, ID: "ak", Signature: "sig"}},
		{in: "DWAY a:b:sig", want: Credentials{Scheme: SchemeDway, ID: "a:b", Signature: "sig"}},
		{in: "Pandora AK:s_-=", want: Credentials{Scheme: SchemePandora, ID: "AK", Signature: "s_-="}},
		{in: "PANDORA AK:sig:ZGVzYw==", want: Credentials{Scheme: SchemePandora, ID: "AK", Signature: "sig", TokenDesc: "ZGVzYw=="}},
		{in: "", code: ErrMissingHeader},
		{in: "   ", code: ErrMissingHeader},
		{in: "Basic dXNlcjpwYXNz", code: ErrBadFormat},
		{in: "Bearer abc", code: ErrBadFormat},
		{in: "DATAFLUX", code: ErrBadFormat},
		{in: "DATAFLUX ", code: ErrBadFormat},
		{in: "DATAFLUX tkn", code: ErrBadFormat},
		{in: "DATAFLUX :sig", code: ErrBadFormat},
		{in: "DATAFLUX tkn:", code: ErrBadFormat},
		{in: "DATAFLUX tkn :sig", code: ErrBadFormat},
		{in: "Pandora AK", code: ErrBadFormat},
		{in: "Pandora AK:sig:", code: ErrBadFormat},
		{in: "Pandora AK:sig:desc:more", code: ErrBadFormat},
		{in: "Pandora :sig", code: ErrBadFormat},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAuthorization(tc.in)
			if tc.code != 0 {
				require.Error(t, err)
				assert.Equal(t, tc.code, CodeOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want.Scheme, SchemeOf(tc.in))
		})
	}
}

func TestSchemeOf(t *testing.T) {
	assert.Equal(t, SchemeDataflux, SchemeOf("DATAFLUX x:y"))
	assert.Equal(t, SchemeDway, SchemeOf("Dway x:y"))
	assert.Equal(t, SchemePandora, SchemeOf("pandora x:y:z"))
	assert.Equal(t, Scheme(""), SchemeOf("Bearer k"))
	assert.Equal(t, Scheme(""), SchemeOf(""))
	assert.Equal(t, Scheme(""), SchemeOf("DATAFLUXtkn:sig"))
}

func TestErrorFormatting(t *testing.T) {
	cause := errors.New("db down")
	err := error(&Error{Code: ErrUnknownKey, Scheme: SchemeDway, Header: "Authorization", Msg: "key id not found", Err: cause})
	assert.Equal(t, "signer: DWAY: unknown key (Authorization): key id not found: db down", err.Error())
	assert.ErrorIs(t, err, ErrUnknownKey)
	assert.ErrorIs(t, err, cause)
	assert.NotErrorIs(t, err, ErrClockSkew)
	assert.Equal(t, ErrUnknownKey, CodeOf(err))
	assert.Equal(t, ErrorCode(0), CodeOf(cause))
	assert.Equal(t, ErrorCode(0), CodeOf(nil))
	assert.Equal(t, "signer: clock skew", ErrClockSkew.Error())
	assert.Equal(t, "ErrorCode(99)", ErrorCode(99).String())
	assert.Equal(t, "signer: bad format", (&Error{Code: ErrBadFormat}).Error())
}
