package scorer

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/catalog/catalogprom"
	"github.com/streamscore/streamscore/internal/follow"
	"github.com/streamscore/streamscore/internal/model"
)

// loadFromCatalog connects to the model catalog and loads, through a
// follow.Loader, the version -model-alias points at (a missing model or
// alias stops the start) and the version -shadow-alias points at, if it is
// set. The loader is kept to follow the aliases once the scorer exists.
func (s *Service) loadFromCatalog(kafkaOpts []kgo.Opt, maxBatch int) (primary, shadow *model.Model, err error) {
	cfg := s.cfg.Model
	countSkips, err := catalogprom.SkipCounter(s.registry)
	if err != nil {
		return nil, nil, err
	}
	cat, err := catalog.New(kafkaOpts, cfg.Topic, s.logger, countSkips)
	if err != nil {
		return nil, nil, fmt.Errorf("model catalog: %w", err)
	}
	s.closeCatalog, s.catalog = cat.Close, cat
	loader, err := follow.NewLoader(follow.Config{
		CatalogTopic: cfg.Topic, Name: cfg.Name, Alias: cfg.Alias, ShadowAlias: cfg.ShadowAlias,
		MaxBatch: maxBatch, Threads: cfg.Threads,
	}, follow.Deps{
		Catalog: cat,
		CheckSchemas: func(spec model.Spec) error {
			return checkInputSchemas(s.schemaReg, s.decoder, spec, s.cfg.Stream.Topics, s.logger)
		},
		Registerer: s.registry,
		Logger:     s.logger,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("model catalog: %w", err)
	}
	started, err := loader.Start(context.Background())
	if err != nil {
		return nil, nil, err
	}
	s.loader, s.started = loader, started
	return started.Model, started.Shadow, nil
}
