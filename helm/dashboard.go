package helm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// ErrExpression marks a dashboard or rule expression that is not PromQL,
// or that selects its metric by a pattern, whose names cannot be listed.
var ErrExpression = errors.New("invalid PromQL expression")

// Where the chart keeps the dashboards (loaded with .Files.Get) and the
// rule groups (rendered with tpl, from .Values only).
const (
	dashboardFiles = "dashboards/*.json"
	ruleFiles      = "rules/*.yaml"
)

// DashboardMetrics returns the sorted, distinct metric names that the
// expressions of the chart in chartDir query: every panel target and query
// variable of its Grafana dashboards, and every rule of its alert rule
// groups, rendered with the chart's default values. The names are those of
// the series, as the expressions write them: a histogram's is its _bucket,
// _sum or _count. The expressions are parsed with Prometheus's own PromQL
// parser, so a name in a comment, a string or a label value is not one.
func DashboardMetrics(chartDir string) ([]string, error) {
	dashboards, err := dashboardExpressions(chartDir)
	if err != nil {
		return nil, err
	}
	rules, err := ruleExpressions(chartDir)
	if err != nil {
		return nil, err
	}
	names := map[string]struct{}{}
	for _, e := range append(dashboards, rules...) {
		if err := addMetricNames(e.text, names); err != nil {
			return nil, fmt.Errorf("%s: %w", e.where, err)
		}
	}
	return slices.Sorted(maps.Keys(names)), nil
}

// expression is one PromQL expression and where it was found, for errors.
type expression struct{ where, text string }

// globChart returns the chart's files matching pattern, failing when there
// are none: a wrong chartDir must not pass as a chart without metrics.
func globChart(chartDir, pattern string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(chartDir, filepath.FromSlash(pattern)))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", pattern, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("chart %s: no %s: %w", chartDir, pattern, fs.ErrNotExist)
	}
	return files, nil
}

// grafanaDashboard is the part of a Grafana dashboard that holds queries.
type grafanaDashboard struct {
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	Title   string `json:"title"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	// Panels are a collapsed row's.
	Panels []grafanaPanel `json:"panels"`
}

// Grafana's interval macros stand where PromQL wants a duration; any
// duration parses the same.
var grafanaInterval = regexp.MustCompile(`\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}`)

// promQL turns a Grafana query into PromQL, its interval macros into a
// duration.
func promQL(grafana string) string { return grafanaInterval.ReplaceAllString(grafana, "5m") }

// labelValues is Grafana's variable query label_values(selector, label).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$`)

func dashboardExpressions(chartDir string) ([]expression, error) {
	files, err := globChart(chartDir, dashboardFiles)
	if err != nil {
		return nil, err
	}
	var exprs []expression
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read dashboard: %w", err)
		}
		var d grafanaDashboard
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", file, err)
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q, err := variableQuery(v.Query)
			if err != nil {
				return nil, fmt.Errorf("dashboard %s: variable %s: %w", file, v.Name, err)
			}
			if q != "" {
				exprs = append(exprs, expression{fmt.Sprintf("dashboard %s: variable %s", file, v.Name), promQL(q)})
			}
		}
		var walk func([]grafanaPanel)
		walk = func(panels []grafanaPanel) {
			for _, p := range panels {
				for _, t := range p.Targets {
					if strings.TrimSpace(t.Expr) != "" {
						where := fmt.Sprintf("dashboard %s: panel %q target %s", file, p.Title, t.RefID)
						exprs = append(exprs, expression{where, promQL(t.Expr)})
					}
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	return exprs, nil
}

// variableQuery returns the PromQL in a query variable, "" if it has none
// (label_values(label), label_names()). Grafana stores the query as a
// string, or as an object holding it.
func variableQuery(raw json.RawMessage) (string, error) {
	var q string
	if err := json.Unmarshal(raw, &q); err != nil {
		var obj struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", fmt.Errorf("query is neither a string nor an object with one: %w", err)
		}
		q = obj.Query
	}
	q = strings.TrimSpace(q)
	switch {
	case labelValues.MatchString(q):
		return labelValues.FindStringSubmatch(q)[1], nil
	case strings.HasPrefix(q, "label_values(") || strings.HasPrefix(q, "label_names("):
		return "", nil
	case strings.HasPrefix(q, "query_result(") && strings.HasSuffix(q, ")"):
		return strings.TrimSuffix(strings.TrimPrefix(q, "query_result("), ")"), nil
	}
	return q, nil
}

// ruleExpressions renders the chart's rule groups with its default values,
// as tpl does at install, and returns every rule's expression.
func ruleExpressions(chartDir string) ([]expression, error) {
	files, err := globChart(chartDir, ruleFiles)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read chart values: %w", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, fmt.Errorf("chart values: %w", err)
	}
	var exprs []expression
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		// Only text/template's own functions: the file promises to need no
		// more (see its header), and a Helm one fails here, not silently.
		tmpl, err := template.New(filepath.Base(file)).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("rules %s: %w", file, err)
		}
		var out bytes.Buffer
		if err := tmpl.Execute(&out, map[string]any{"Values": values}); err != nil {
			return nil, fmt.Errorf("rules %s: %w", file, err)
		}
		var groups struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert  string `json:"alert"`
					Record string `json:"record"`
					Expr   string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		}
		if err := yaml.Unmarshal(out.Bytes(), &groups); err != nil {
			return nil, fmt.Errorf("rules %s rendered: %w", file, err)
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				where := fmt.Sprintf("rules %s: group %s: rule %s%s", file, g.Name, r.Alert, r.Record)
				exprs = append(exprs, expression{where, r.Expr})
			}
		}
	}
	return exprs, nil
}

// addMetricNames parses a PromQL expression and adds the metric name of
// each of its selectors to names.
func addMetricNames(expr string, names map[string]struct{}) error {
	parsed, err := parser.ParseExpr(expr)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrExpression, err)
	}
	var unnamed []string
	parser.Inspect(parsed, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if name == "" && m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			unnamed = append(unnamed, vs.String())
			return nil
		}
		names[name] = struct{}{}
		return nil
	})
	if len(unnamed) > 0 {
		return fmt.Errorf("%w: %s select metrics by a pattern", ErrExpression, strings.Join(unnamed, ", "))
	}
	return nil
}
