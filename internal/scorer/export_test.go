package scorer

// ShadowTopicOf exposes the shadow topic the scorer writes an input's
// shadow results to ("" when shadow scoring is off).
func ShadowTopicOf(cfg Config, input string) string { return cfg.streamConfig().ShadowFor(input) }
