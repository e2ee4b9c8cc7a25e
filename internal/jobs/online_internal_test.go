package jobs

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
)

// TestOnlineJudge applies the online rule (roc_auc, 1000 records, alpha
// 0.05, max_wait a day) to comparisons of champion 3 and challenger 5.
func TestOnlineJudge(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	champion := catalog.Version{Version: 3, CreatedAt: now.Add(-30 * 24 * time.Hour)}
	challenger := catalog.Version{Version: 5, CreatedAt: now.Add(-time.Hour)}
	meets := func() comparison {
		return comparison{championVersion: "3", challengerVersion: "5", metric: "roc_auc", test: "delong",
			paired: 4210, champion: 0.874, challenger: 0.912, z: 3.1, pValue: 0.001}
	}
	tests := []struct {
		name       string
		change     func(*comparison)
		challenger catalog.Version
		result     string
		says       string // in the reason, or in why
	}{
		{"meets the rule", func(*comparison) {}, challenger, onlinePromoted,
			"online: roc_auc 0.912 vs 0.874 over 4,210 labelled records, DeLong z=3.1 p=0.001"},
		{"exactly min_labelled", func(c *comparison) { c.paired = 1000 }, challenger, onlinePromoted, "over 1,000 labelled records"},
		{"one record short", func(c *comparison) { c.paired = 999 }, challenger, onlineTooFew, "999 paired records, fewer than min_labelled 1000"},
		{"p at alpha", func(c *comparison) { c.pValue = 0.05 }, challenger, onlineNotSignificant, "not better at alpha 0.05"},
		{"challenger worse", func(c *comparison) { c.z, c.pValue = -2, 0.97 }, challenger, onlineNotSignificant, "z=-2.00"},
		{"z zero", func(c *comparison) { c.z, c.pValue = 0, 0.01 }, challenger, onlineNotSignificant, "z=0.00"},
		{"of an older challenger", func(c *comparison) { c.challengerVersion = "4" }, challenger, onlineStale, "compares v4 with v3; the challenger is v5"},
		{"of another champion", func(c *comparison) { c.championVersion = "2" }, challenger, onlineStale, "compares v5 with v2"},
		{"another metric", func(c *comparison) { c.metric = "mae" }, challenger, onlineStale, "compares mae, the rule roc_auc"},
		{"the challenger is the champion", func(c *comparison) { c.challengerVersion = "3" }, champion, onlineStale, "no challenger apart from the champion"},
		{"past max_wait", func(*comparison) {}, catalog.Version{Version: 5, CreatedAt: now.Add(-25 * time.Hour)}, onlineGivenUp, "past max_wait 24h0m0s"},
		{"z not finite", func(c *comparison) { c.z = math.Inf(1) }, challenger, onlineInvalid, "z is not finite"},
		{"p above 1", func(c *comparison) { c.pValue = 2 }, challenger, onlineInvalid, "p_value 2 is not within 0..1"},
		{"a test name of 1 KB", func(c *comparison) { c.test = strings.Repeat("t", 1000) }, challenger, onlineInvalid, "test: want 1 to 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			judge := &onlineJudge{rule: Online{MaxWait: 24 * time.Hour}.withDefaults("")}
			c := meets()
			tt.change(&c)
			end := now.Add(-time.Minute)
			v := judge.judge(monitorWindow{end: end, comparison: &c}, champion, tt.challenger, now)
			if v.result != tt.result || !strings.Contains(v.reason+v.why, tt.says) {
				t.Fatalf("verdict %s (reason %q, why %q), want %s saying %q", v.result, v.reason, v.why, tt.result, tt.says)
			}
			if v.result != onlinePromoted {
				return
			}
			want := catalog.Evidence{Metric: "roc_auc", Test: "delong", Paired: c.paired, ChampionValue: 0.874, ChallengerValue: 0.912,
				Z: 3.1, PValue: 0.001, WindowEnd: end, ChampionVersion: 3, ChallengerVersion: 5}
			if v.evidence != want {
				t.Errorf("evidence %+v, want %+v", v.evidence, want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 4210: "4,210", 1234567: "1,234,567", -4210: "-4,210", -100: "-100"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
