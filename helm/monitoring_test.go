package helm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/build"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

const (
	dashboardN   = "ss-streamscore-dashboard"
	ruleN        = "PrometheusRule/ss-streamscore"
	dashboardSrc = chart + "/dashboards/streamscore.json"
	promtoolGet  = "GOFLAGS=-mod=mod go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0"
)

// renderValues renders the chart with a value set given inline.
func renderValues(t *testing.T, values string) *manifests {
	t.Helper()
	file := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(file, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return renderCase(t, file)
}

func TestMonitoringObjects(t *testing.T) {
	cases := []struct {
		name, values    string
		dashboard, rule bool
	}{
		{"defaults", "", false, false},
		{"service monitor only", "serviceMonitor: {enabled: true}", false, false},
		{"dashboard", "monitoring: {dashboard: {enabled: true}}", true, false},
		{"rules", "monitoring: {rules: {enabled: true}}", false, true},
		{"both", "monitoring: {dashboard: {enabled: true}, rules: {enabled: true}}", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := renderValues(t, c.values)
			if _, ok := m.configMaps[dashboardN]; ok != c.dashboard {
				t.Errorf("dashboard ConfigMap rendered: %v, want %v", ok, c.dashboard)
			}
			if _, ok := m.custom[ruleN]; ok != c.rule {
				t.Errorf("PrometheusRule rendered: %v, want %v", ok, c.rule)
			}
		})
	}
}

// TestDashboardConfigMap checks that the sidecar's label, the folder
// annotation, the namespace and the extra metadata follow the values, and
// that the ConfigMap holds the chart's dashboard byte for byte.
func TestDashboardConfigMap(t *testing.T) {
	want, err := os.ReadFile(dashboardSrc)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, values string
		namespace    string
		labels       map[string]string // beyond the chart's own
		annotations  map[string]string
	}{
		{
			name:   "defaults",
			values: "monitoring: {dashboard: {enabled: true}}",
			labels: map[string]string{"grafana_dashboard": "1"},
		},
		{
			name:        "every setting",
			values:      mustRead(t, "testdata/good/monitoring.yaml"),
			namespace:   "grafana",
			labels:      map[string]string{"grafana.example.com/dashboard": "streamscore", "team": "ml"},
			annotations: map[string]string{"grafana.example.com/folder": "Machine learning", "owner": "ml-platform"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cm := renderValues(t, c.values).configMaps[dashboardN]
			if cm == nil {
				t.Fatal("no dashboard ConfigMap")
			}
			if cm.Namespace != c.namespace {
				t.Errorf("namespace %q, want %q", cm.Namespace, c.namespace)
			}
			extra := map[string]string{}
			for k, v := range cm.Labels {
				if !strings.HasPrefix(k, "app.kubernetes.io/") && !strings.HasPrefix(k, "helm.sh/") {
					extra[k] = v
				}
			}
			if fmt.Sprint(extra) != fmt.Sprint(c.labels) {
				t.Errorf("labels %v, want %v besides the chart's", extra, c.labels)
			}
			if len(cm.Annotations)+len(c.annotations) > 0 && fmt.Sprint(cm.Annotations) != fmt.Sprint(c.annotations) {
				t.Errorf("annotations %v, want %v", cm.Annotations, c.annotations)
			}
			if len(cm.Data) != 1 || cm.Data["streamscore.json"] != strings.TrimRight(string(want), "\n") {
				t.Errorf("data keys %v: want streamscore.json holding %s", slices.Collect(maps.Keys(cm.Data)), dashboardSrc)
			}
		})
	}
}

func mustRead(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dashboard is what TestDashboardJSON reads of the Grafana JSON.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Type       string     `json:"type"`
			Query      any        `json:"query"`
			Datasource datasource `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int                      `json:"id"`
		Type       string                   `json:"type"`
		Title      string                   `json:"title"`
		Datasource datasource               `json:"datasource"`
		GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
		Targets    []struct {
			RefID      string     `json:"refId"`
			Expr       string     `json:"expr"`
			Datasource datasource `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// theDatasource is the data source variable every query must use, so that
// the dashboard works with any Prometheus the operator picks.
var theDatasource = datasource{Type: "prometheus", UID: "${datasource}"}

// The variables each series carries, of those the dashboard filters by:
// a panel on a series with a topic or model label must follow the
// dashboard's choice of them.
var seriesFilters = map[string][]string{
	"streamscore_records_in_total":            {"topic"},
	"streamscore_records_out_total":           {"topic"},
	"streamscore_records_dead_lettered_total": nil,
	"streamscore_consumer_lag_records":        {"topic"},
	"streamscore_end_to_end_seconds_bucket":   nil,
	"streamscore_drift_psi":                   {"topic", "model"},
	"streamscore_drift_ks":                    {"topic", "model"},
	"streamscore_feature_null_ratio":          {"topic", "model"},
	"streamscore_feature_out_of_range_ratio":  {"topic", "model"},
	"streamscore_prediction_psi":              {"topic", "model"},
	"streamscore_monitor_windows_total":       {"topic", "model"},
	"streamscore_online_metric":               {"topic", "model"},
	"streamscore_online_labelled":             {"topic", "model"},
	"streamscore_labels_total":                {"topic"},
	"streamscore_online_comparison":           {"topic", "model"},
}

// TestDashboardJSON checks the dashboard as Grafana will read it: valid
// JSON, the datasource, topic and model variables, every panel and query
// on the datasource variable, every selector filtered by the variables its
// series carries, unique panel ids, and panels that do not overlap.
func TestDashboardJSON(t *testing.T) {
	raw, err := os.ReadFile(dashboardSrc)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: want both", d.UID, d.Title)
	}

	var names []string
	for _, v := range d.Templating.List {
		names = append(names, v.Name)
		switch {
		case v.Name == "datasource":
			if v.Type != "datasource" || v.Query != "prometheus" {
				t.Errorf("variable datasource: type %q query %v, want a Prometheus data source", v.Type, v.Query)
			}
		case v.Type != "query" || v.Datasource != theDatasource:
			t.Errorf("variable %s: type %q, datasource %+v: want a query on ${datasource}", v.Name, v.Type, v.Datasource)
		}
	}
	if !slices.Equal(names, []string{"datasource", "topic", "model"}) {
		t.Errorf("variables %v, want datasource, topic, model", names)
	}

	ids := map[int]bool{}
	var cells [][24]bool // grid rows of 24 columns, filled as panels take them
	queries := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24 columns", p.Title, g)
			continue
		}
		for y := g.Y; y < g.Y+g.H; y++ {
			for len(cells) <= y {
				cells = append(cells, [24]bool{})
			}
			for x := g.X; x < g.X+g.W; x++ {
				if cells[y][x] {
					t.Errorf("panel %q overlaps another at column %d row %d", p.Title, x, y)
				}
				cells[y][x] = true
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || p.Datasource != theDatasource || len(p.Targets) == 0 {
			t.Errorf("panel %d %q: datasource %+v, %d targets: want a title, ${datasource} and a query", p.ID, p.Title, p.Datasource, len(p.Targets))
		}
		for _, q := range p.Targets {
			queries++
			if q.Datasource != theDatasource {
				t.Errorf("panel %q target %s: datasource %+v, want ${datasource}", p.Title, q.RefID, q.Datasource)
			}
			checkFilters(t, p.Title, q.Expr)
		}
	}
	if queries < 15 {
		t.Errorf("%d queries: the dashboard lost panels", queries)
	}
}

// checkFilters parses a panel's expression and checks that each selector
// follows the dashboard variables its series carries.
func checkFilters(t *testing.T, panel, expr string) {
	t.Helper()
	parsed, err := parser.ParseExpr(strings.ReplaceAll(expr, "$__rate_interval", "5m"))
	if err != nil {
		t.Errorf("panel %q: %v", panel, err)
		return
	}
	parser.Inspect(parsed, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		filters, known := seriesFilters[vs.Name]
		if !known {
			t.Errorf("panel %q queries %s, which the test does not know", panel, vs.Name)
		}
		for _, label := range filters {
			found := false
			for _, m := range vs.LabelMatchers {
				found = found || (m.Name == label && m.Type == labels.MatchRegexp && m.Value == "$"+label)
			}
			if !found {
				t.Errorf("panel %q: %s does not follow the %s variable (%s=~\"$%s\")", panel, vs, label, label, label)
			}
		}
		return nil
	})
}

// alertWant is what one alert of the rendered rule group must hold.
type alertWant struct {
	name, forDuration, severity string
	// numbers are thresholds the expression compares with; ranges its
	// range vectors' lengths.
	numbers []float64
	ranges  []time.Duration
	// labels are the alert's identifying labels: the annotations must name
	// each and no other.
	labels []string
}

var (
	versionLabels = []string{"topic", "model", "version", "role"}
	featureLabels = []string{"topic", "model", "version", "role", "feature"}
)

// TestPrometheusRule renders the alerts at the default values and at
// testdata/good/monitoring.yaml, checks each alert's thresholds, duration,
// labels and annotations, and validates the group with Prometheus's own
// rule file parser (rulefmt: the expressions, durations, label names and
// annotation templates), which needs no promtool.
func TestPrometheusRule(t *testing.T) {
	cases := []struct {
		name, values string
		objectLabels map[string]string
		alertLabels  map[string]string
		alerts       []alertWant
	}{
		{
			name:   "defaults",
			values: "monitoring: {rules: {enabled: true}}",
			alerts: []alertWant{
				{"StreamscoreFeatureDrift", "15m", "warning", []float64{0.25}, nil, featureLabels},
				{"StreamscorePredictionDrift", "15m", "warning", []float64{0.25}, nil, versionLabels},
				{"StreamscoreOnlineMetricFalling", "30m", "critical", []float64{0.7, -0.05, 100}, []time.Duration{time.Hour}, versionLabels},
				{"StreamscoreLabelsUnmatched", "15m", "warning", []float64{0.2}, []time.Duration{30 * time.Minute}, []string{"topic"}},
			},
		},
		{
			name:         "every setting",
			values:       mustRead(t, "testdata/good/monitoring.yaml"),
			objectLabels: map[string]string{"release": "prometheus"},
			alertLabels:  map[string]string{"team": "ml", "page": "no"},
			alerts: []alertWant{
				{"StreamscoreFeatureDrift", "20m", "info", []float64{0.3}, nil, featureLabels},
				{"StreamscorePredictionDrift", "20m", "warning", []float64{0.35}, nil, versionLabels},
				{"StreamscoreOnlineMetricFalling", "45m", "page", []float64{0.65, -0.08, 250}, []time.Duration{time.Hour}, versionLabels},
				{"StreamscoreLabelsUnmatched", "10m", "ticket", []float64{0.15}, []time.Duration{2 * time.Hour}, []string{"topic"}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			obj := renderValues(t, c.values).custom[ruleN]
			if obj == nil {
				t.Fatal("no PrometheusRule")
			}
			for k, v := range c.objectLabels {
				checkFields(t, "PrometheusRule", obj, map[string]any{"metadata.labels." + k: v})
			}
			group := ruleGroup(t, obj)
			parsed, errs := rulefmt.Parse(group, false)
			if len(errs) > 0 {
				t.Fatalf("rulefmt refuses the rule group: %v\n%s", errs, group)
			}
			if len(parsed.Groups) != 1 || len(parsed.Groups[0].Rules) != len(c.alerts) {
				t.Fatalf("want one group of %d alerts:\n%s", len(c.alerts), group)
			}
			for i, w := range c.alerts {
				r := parsed.Groups[0].Rules[i]
				if r.Alert != w.name || r.For.String() != w.forDuration {
					t.Errorf("alert %d: %s for %s, want %s for %s", i, r.Alert, r.For, w.name, w.forDuration)
				}
				wantLabels := map[string]string{"severity": w.severity}
				maps.Copy(wantLabels, c.alertLabels)
				if fmt.Sprint(r.Labels) != fmt.Sprint(wantLabels) {
					t.Errorf("%s: labels %v, want %v", w.name, r.Labels, wantLabels)
				}
				numbers, ranges := literals(t, r.Expr)
				for _, n := range w.numbers {
					if !slices.Contains(numbers, n) {
						t.Errorf("%s: the expression compares with %v, not %v:\n%s", w.name, numbers, n, r.Expr)
					}
				}
				if !slices.Equal(ranges, w.ranges) {
					t.Errorf("%s: ranges %v, want %v", w.name, ranges, w.ranges)
				}
				checkAnnotations(t, w, r.Annotations)
			}
		})
	}
}

// ruleGroup is the PrometheusRule's spec as a Prometheus rule file.
func ruleGroup(t *testing.T, obj map[string]any) []byte {
	t.Helper()
	b, err := yaml.Marshal(obj["spec"])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func literals(t *testing.T, expr string) ([]float64, []time.Duration) {
	t.Helper()
	parsed, err := parser.ParseExpr(expr)
	if err != nil {
		t.Fatal(err)
	}
	var numbers []float64
	var ranges []time.Duration
	parser.Inspect(parsed, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.NumberLiteral:
			numbers = append(numbers, n.Val)
		case *parser.MatrixSelector:
			if !slices.Contains(ranges, n.Range) {
				ranges = append(ranges, n.Range)
			}
		}
		return nil
	})
	return numbers, ranges
}

var labelRef = regexp.MustCompile(`\$labels\.([A-Za-z_][A-Za-z0-9_]*)`)

// checkAnnotations wants a summary and a description, each naming every
// identifying label of the alert and no label the alert does not carry.
func checkAnnotations(t *testing.T, w alertWant, annotations map[string]string) {
	t.Helper()
	if len(annotations) != 2 {
		t.Errorf("%s: annotations %v, want summary and description", w.name, annotations)
	}
	for _, key := range []string{"summary", "description"} {
		var named []string
		for _, m := range labelRef.FindAllStringSubmatch(annotations[key], -1) {
			if !slices.Contains(named, m[1]) {
				named = append(named, m[1])
			}
		}
		slices.Sort(named)
		want := slices.Sorted(slices.Values(w.labels))
		if !slices.Equal(named, want) {
			t.Errorf("%s %s names %v, want %v: %q", w.name, key, named, want, annotations[key])
		}
	}
}

// promtoolBinary finds promtool on PATH or in GOPATH/bin; "" without it.
func promtoolBinary() string {
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(dir, "bin", "promtool")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestPromtool runs `promtool check rules` on the rendered rule group at
// both value sets, and `promtool test rules` with testdata/rules: series
// that must fire each alert, at the right time and with the right
// annotations, and series that must not. It needs promtool, which the
// module's own dependencies do not build; without it the test is skipped
// (TestPrometheusRule still validates the group with rulefmt).
func TestPromtool(t *testing.T) {
	promtool := promtoolBinary()
	if promtool == "" {
		t.Skip("promtool is not on PATH or in GOPATH/bin: " + promtoolGet)
	}
	dir := t.TempDir()
	run := func(t *testing.T, dir string, args ...string) {
		t.Helper()
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The unit tests expect the default values: they run beside the
	// defaults' rule file, the last one written.
	for _, values := range []string{mustRead(t, "testdata/good/monitoring.yaml"), "monitoring: {rules: {enabled: true}}"} {
		if err := os.WriteFile(filepath.Join(dir, "streamscore.rules.yaml"), ruleGroup(t, renderValues(t, values).custom[ruleN]), 0o600); err != nil {
			t.Fatal(err)
		}
		run(t, dir, "check", "rules", "streamscore.rules.yaml")
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), []byte(mustRead(t, "testdata/rules/alerts_test.yaml")), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "test", "rules", "alerts_test.yaml")
}
