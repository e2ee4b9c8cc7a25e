package helm_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/helm"
)

// TestDashboardMetrics lists what the chart's dashboard and alerts query:
// the scorer's series that a scrape of its /metrics must show.
func TestDashboardMetrics(t *testing.T) {
	got, err := helm.DashboardMetrics(chart)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"streamscore_consumer_lag_records",
		"streamscore_drift_ks",
		"streamscore_drift_psi",
		"streamscore_end_to_end_seconds_bucket",
		"streamscore_feature_null_ratio",
		"streamscore_feature_out_of_range_ratio",
		"streamscore_labels_total",
		"streamscore_monitor_windows_total",
		"streamscore_online_comparison",
		"streamscore_online_labelled",
		"streamscore_online_metric",
		"streamscore_prediction_psi",
		"streamscore_records_dead_lettered_total",
		"streamscore_records_in_total",
		"streamscore_records_out_total",
	}
	if !slices.Equal(got, want) {
		t.Errorf("DashboardMetrics:\n got %q\nwant %q", got, want)
	}
}

// A chart of one dashboard and one rule file, to show what
// DashboardMetrics reads and refuses.
const (
	okDashboard = `{
  "templating": {"list": [
    {"name": "datasource", "type": "datasource", "query": "prometheus"},
    {"name": "job", "type": "query", "query": "label_values(var_string{x=\"$y\"}, job)"},
    {"name": "instance", "type": "query", "query": {"query": "label_values(var_object, instance)", "refId": "v"}},
    {"name": "any", "type": "query", "query": "label_values(instance)"},
    {"name": "top", "type": "query", "query": "query_result(topk(3, max_over_time(var_result[$__range])))"},
    {"name": "step", "type": "interval", "query": "1m,5m"}
  ]},
  "panels": [
    {"title": "latency", "targets": [{"refId": "A", "expr": "histogram_quantile(0.99, sum by (le) (rate(latency_seconds_bucket{job=~\"$job\"}[$__rate_interval])))"}]},
    {"title": "by name", "targets": [{"refId": "A", "expr": "{__name__=\"by_name\", job=\"not_a_metric\"}"}, {"refId": "B", "expr": ""}]},
    {"title": "row", "type": "row", "collapsed": true, "panels": [
      {"title": "inside", "targets": [{"refId": "A", "expr": "sum(rate(in_row_total[${__interval}])) / on() group_left count(up)"}]}
    ]}
  ]
}`
	okRules = `{{- $t := .Values.threshold }}
groups:
  - name: g
    rules:
      - record: job:rule_recorded:sum
        expr: sum by (job) (rule_recorded)
      - alert: A
        expr: |
          rule_alerted > {{ $t }} # not_a_comment_metric
        annotations:
          summary: {{` + "`job {{ $labels.job }}`" + `}}
`
	okValues = "threshold: 0.5\n"
)

func writeChart(t *testing.T, dashboard, rules, values string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"dashboards/d.json": dashboard, "rules/r.yaml": rules, "values.yaml": values}
	for name, content := range files {
		if content == "" {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDashboardMetricsParsing(t *testing.T) {
	cases := []struct {
		name                     string
		dashboard, rules, values string
		want                     []string
		wantErr                  error  // errors.Is, when set
		errContains              string // otherwise, when set
	}{
		{
			name:      "panels, rows, variables and rules",
			dashboard: okDashboard, rules: okRules, values: okValues,
			want: []string{"by_name", "in_row_total", "latency_seconds_bucket", "rule_alerted", "rule_recorded", "up", "var_object", "var_result", "var_string"},
		},
		{
			name:      "a metric chosen by a pattern",
			dashboard: strings.Replace(okDashboard, `{__name__=\"by_name\"`, `{__name__=~\"by_.*\"`, 1), rules: okRules, values: okValues,
			wantErr: helm.ErrExpression, errContains: `panel "by name" target A`,
		},
		{
			name:      "a panel that is not PromQL",
			dashboard: strings.Replace(okDashboard, "histogram_quantile(0.99,", "histogram_quantile(0.99", 1), rules: okRules, values: okValues,
			wantErr: helm.ErrExpression, errContains: `panel "latency"`,
		},
		{
			name:      "a rule that is not PromQL",
			dashboard: okDashboard, rules: strings.Replace(okRules, "sum by (job)", "sum by job", 1), values: okValues,
			wantErr: helm.ErrExpression, errContains: "rule job:rule_recorded:sum",
		},
		{
			name:      "a rule file needing a value the chart lacks",
			dashboard: okDashboard, rules: okRules, values: "other: 1\n",
			errContains: "threshold",
		},
		{
			name:      "a rule file using a Helm function",
			dashboard: okDashboard, rules: strings.Replace(okRules, "{{ $t }}", "{{ $t | quote }}", 1), values: okValues,
			errContains: `function "quote" not defined`,
		},
		{
			name:  "no dashboard",
			rules: okRules, values: okValues,
			wantErr: fs.ErrNotExist,
		},
		{
			name:      "no rules",
			dashboard: okDashboard, values: okValues,
			wantErr: fs.ErrNotExist,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := helm.DashboardMetrics(writeChart(t, c.dashboard, c.rules, c.values))
			if c.wantErr == nil && c.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("got %q\nwant %q", got, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; names %q", got)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("error %v: want %v", err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.errContains) {
				t.Errorf("error %v: want it to say %q", err, c.errContains)
			}
		})
	}
}
