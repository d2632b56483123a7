package kodo

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/kodo-project/kodo/tsdb"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// openTSDB starts the Pandora TSDB v4 service on the engine new databases
// are placed on, with the metadata store for repos, series and key pairs.
func (s *service) openTSDB(ctx context.Context) error {
	if len(s.placeable) == 0 {
		return fmt.Errorf("kodo: no engine for the TSDB service")
	}
	svc, err := tsdb.NewService(tsdb.Config{
		Store: s.meta, Engine: sinkEngine{s.engines[s.placeable[0]], s}, Logger: s.log.With("service", "tsdb"), Now: s.now,
		Limits: s.limit, LineLimits: s.lineLimits(), QueryTimeout: s.opts.Limits.QueryTimeout,
		SeenBefore:       s.pandoraSeenBefore(),
		MaxSelectBuckets: s.opts.Limits.MaxSelectBuckets, MaxAnswerBytes: s.opts.Limits.MaxQueryAnswerBytes,
		MaxFuture: positive(s.opts.Limits.MaxFuture),
		Admit:     s.admitTSDB,
	})
	if err != nil {
		return fmt.Errorf("kodo: tsdb service: %w", err)
	}
	s.tsdb = svc
	ak, sk := strings.TrimSpace(s.opts.TSDBAccessKey), strings.TrimSpace(s.opts.TSDBSecretKey)
	if (ak == "") != (sk == "") {
		return fmt.Errorf("kodo: -tsdb-ak and -tsdb-sk go together")
	}
	if ak != "" {
		if err := svc.EnsureKeyPair(ctx, ak, sk); err != nil {
			return fmt.Errorf("kodo: tsdb key pair %s: %w", ak, err)
		}
	}
	return nil
}

// handleTSDBKeyPair issues a Pandora access key / secret key pair; repos
// created with it are invisible to every other pair.
func (s *service) handleTSDBKeyPair(r *http.Request) (any, error) {
	kp, err := s.tsdb.NewKeyPair(r.Context())
	if err != nil {
		return nil, metaError(err, "creating the key pair")
	}
	return tsdbapi.KeyPair{AccessKey: kp.AccessKey, SecretKey: kp.SecretKey}, nil
}
