package signer

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server checks the headers before it reads the body, then verifies in
// full: the header phase must pass every valid vector (else good clients
// are refused), see no body at all, and the two phases together must
// decide exactly as one Verify does.
func TestVectorsHeaderPhase(t *testing.T) {
	noBody := func(r Request) Request { r.Body = nil; return r }

	for _, v := range loadVectors(t, "dataflux.json") {
		t.Run(v.ID, func(t *testing.T) {
			lookup := func(token string) (string, error) {
				if token != v.Token {
					return "", errors.New("no such token")
				}
				return "", nil
			}
			vf := &DatafluxVerifier{Now: v.clock()}
			r := v.wireRequest(t)
			_, macChecked, herr := vf.VerifyHeader(noBody(r), lookup)
			assert.False(t, macChecked, "an MD5-keyed signature needs the body")
			_, ferr := vf.Verify(r, lookup)
			if v.Valid {
				require.NoError(t, herr)
			}
			assert.Equal(t, ferr == nil, herr == nil && ferr == nil)
		})
	}
	for _, v := range loadVectors(t, "dataway-go-sdk.json") {
		t.Run(v.ID, func(t *testing.T) {
			lookup := v.lookup
			vf := &DwayVerifier{Now: v.clock()}
			r := v.wireRequest(t)
			_, herr := vf.VerifyHeader(noBody(r), lookup)
			_, ferr := vf.Verify(r, lookup)
			if v.Valid {
				require.NoError(t, herr)
			}
			if v.ID == "dataway-05-NEG_Upload_without_Authorization" {
				assert.ErrorIs(t, herr, ErrMissingHeader, "refused before the body")
			}
			assert.Equal(t, ferr == nil, herr == nil && ferr == nil)
		})
	}
	for _, v := range loadVectors(t, "pandora-go-sdk.json") {
		t.Run(v.ID, func(t *testing.T) {
			secretFor := v.secretFor
			r := v.wireRequest(t)
			_, herr := (&PandoraVerifier{Now: v.clock(), SkipBodyDigest: true}).Verify(noBody(r), secretFor)
			_, ferr := (&PandoraVerifier{Now: v.clock()}).Verify(r, secretFor)
			if v.Valid {
				require.NoError(t, herr)
			} else if !errors.Is(ferr, ErrDigestMismatch) {
				// The signature never covers the body: everything but the
				// digest is decided from the headers alone.
				assert.Error(t, herr, "refused before the body: %v", ferr)
			}
			both := herr
			if both == nil {
				both = CheckPandoraBodyDigest(r)
			}
			assert.Equal(t, ferr == nil, both == nil)
		})
	}
}

// With a token secret the DATAFLUX HMAC covers no body bytes, so the header
// phase checks it in full; only Content-MD5 against the body is left.
func TestDatafluxVerifyHeaderWithSecret(t *testing.T) {
	body := []byte("cpu,host=a usage=1 1600000000000000000\n")
	good := signed(t, datafluxAtT0("tkn_s", "s3cret", AlgoSHA256), "POST", "/v1/write/metrics", body, nil)
	secretFor := func(tok string) (string, error) {
		if tok != "tkn_s" {
			return "", errNoKey
		}
		return "s3cret", nil
	}
	vf := &DatafluxVerifier{Now: fixed(t0)}
	head := good
	head.Body = nil
	tok, macChecked, err := vf.VerifyHeader(head, secretFor)
	require.NoError(t, err)
	assert.Equal(t, "tkn_s", tok)
	assert.True(t, macChecked)

	forged := with(head, "Authorization", "DATAFLUX tkn_s:"+SignDataflux("guess", "x", AlgoSHA256))
	_, _, err = vf.VerifyHeader(forged, secretFor)
	assert.ErrorIs(t, err, ErrSignatureMismatch)

	unknown := with(with(head, "X-Token", ""), "Authorization", "DATAFLUX tkn_x:"+SignDataflux("k", "x", AlgoSHA256))
	_, _, err = vf.VerifyHeader(unknown, secretFor)
	assert.ErrorIs(t, err, ErrUnknownKey)

	strict := &DatafluxVerifier{Now: fixed(t0), RequireContentMD5: true}
	_, _, err = strict.VerifyHeader(with(head, "Content-MD5", ""), secretFor)
	assert.ErrorIs(t, err, ErrMissingHeader)

	// The body phase still binds the body through Content-MD5.
	require.NotEmpty(t, good.Header.Get("Content-MD5"))
	tampered := withBody(good, "cpu,host=a usage=9 1600000000000000000\n")
	_, err = vf.Verify(tampered, secretFor)
	assert.ErrorIs(t, err, ErrDigestMismatch)
}
