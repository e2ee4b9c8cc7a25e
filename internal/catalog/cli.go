package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/streamscore/streamscore/internal/model"
)

// CLIUsage describes the commands RunCLI takes.
const CLIUsage = `commands:
  list                                        models, version counts and aliases
  versions NAME                               a model's versions
  show NAME VERSION|ALIAS                     one version's metadata, as JSON
  promote NAME VERSION [-alias champion] [-reason TEXT]
                                              point an alias at a version (recorded as forced)
  rollback NAME [-alias champion]             undo the alias's last change
  history NAME                                every alias change, oldest first
  export NAME VERSION|ALIAS -o FILE           write the ONNX model to FILE and its
                                              feature mapping to FILE.spec.json (FILE
                                              without .onnx)
  import NAME FILE.onnx -spec SPEC.json [-alias ALIAS]
                                              publish a model trained elsewhere`

// RunCLI runs one catalog command (args[0] is the command, as in
// `trainer models list`) and writes its output to stdout. It syncs the
// catalog first. Command-line mistakes wrap ErrUsage (exit status 2);
// import loads the model in ONNX Runtime, so model.Init must have run.
func RunCLI(ctx context.Context, c *Catalog, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr("no command")
	}
	cmd, rest := args[0], args[1:]
	run, ok := map[string]func(context.Context, *Catalog, []string, io.Writer) error{
		"list":     cliList,
		"versions": cliVersions,
		"show":     cliShow,
		"promote":  cliPromote,
		"rollback": cliRollback,
		"history":  cliHistory,
		"export":   cliExport,
		"import":   cliImport,
	}[cmd]
	if !ok {
		return usageErr("unknown command %q", cmd)
	}
	if err := c.Sync(ctx); err != nil {
		return err
	}
	return run(ctx, c, rest, stdout)
}

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s\n%s", ErrUsage, fmt.Sprintf(format, args...), CLIUsage)
}

// parseArgs parses flags placed anywhere among want positional arguments
// (Go's flag package stops at the first positional one).
func parseArgs(fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageErr("%s: %s", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	if len(positional) != len(want) {
		return nil, usageErr("%s takes %s, got %d argument(s)", fs.Name(), strings.Join(want, " "), len(positional))
	}
	return positional, nil
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// aliasList renders aliases as "champion=3 shadow=4", sorted by alias.
func aliasList(aliases map[string]int) string {
	parts := make([]string, 0, len(aliases))
	for _, a := range slices.Sorted(maps.Keys(aliases)) {
		parts = append(parts, fmt.Sprintf("%s=%d", a, aliases[a]))
	}
	return dash(strings.Join(parts, " "))
}

// aliasesOf lists the aliases pointing at version, sorted.
func aliasesOf(aliases map[string]int, version int) string {
	var names []string
	for _, a := range slices.Sorted(maps.Keys(aliases)) {
		if aliases[a] == version {
			names = append(names, a)
		}
	}
	return dash(strings.Join(names, ","))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cliList(_ context.Context, c *Catalog, args []string, stdout io.Writer) error {
	if _, err := parseArgs(flag.NewFlagSet("list", flag.ContinueOnError), args); err != nil {
		return err
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "NAME\tVERSIONS\tLATEST\tALIASES")
	for _, name := range c.Models() {
		vs := c.Versions(name)
		latest := "-"
		if len(vs) > 0 {
			latest = strconv.Itoa(vs[len(vs)-1].Version)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", name, len(vs), latest, aliasList(c.Aliases(name)))
	}
	return tw.Flush()
}

func cliVersions(_ context.Context, c *Catalog, args []string, stdout io.Writer) error {
	pos, err := parseArgs(flag.NewFlagSet("versions", flag.ContinueOnError), args, "NAME")
	if err != nil {
		return err
	}
	name := pos[0]
	vs := c.Versions(name)
	if len(vs) == 0 {
		return fmt.Errorf("model %q: %w", name, ErrNotFound)
	}
	aliases := c.Aliases(name)
	tw := newTable(stdout)
	fmt.Fprintln(tw, "VERSION\tFAMILY\tCREATED\tSIZE\tPARENT\tALIASES\tMETRICS")
	for _, v := range vs {
		parent := "-"
		if v.Parent > 0 {
			parent = strconv.Itoa(v.Parent)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", v.Version, v.Family, v.CreatedAt.UTC().Format(time.RFC3339),
			v.Size, parent, aliasesOf(aliases, v.Version), metricList(v.Metrics))
	}
	return tw.Flush()
}

func metricList(m map[string]float64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%.4g", k, m[k]))
	}
	return dash(strings.Join(parts, " "))
}

func cliShow(_ context.Context, c *Catalog, args []string, stdout io.Writer) error {
	pos, err := parseArgs(flag.NewFlagSet("show", flag.ContinueOnError), args, "NAME", "VERSION|ALIAS")
	if err != nil {
		return err
	}
	v, err := c.Lookup(pos[0], pos[1])
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode version: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}

func cliPromote(ctx context.Context, c *Catalog, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	alias := fs.String("alias", "champion", "alias to move")
	reason := fs.String("reason", "promoted by hand", "why, kept in the history")
	pos, err := parseArgs(fs, args, "NAME", "VERSION")
	if err != nil {
		return err
	}
	version, err := strconv.Atoi(pos[1])
	if err != nil || version < 1 {
		return usageErr("promote: version %q is not a positive number", pos[1])
	}
	ch, err := c.SetAlias(ctx, pos[0], *alias, version, *reason, true)
	if err != nil {
		return err
	}
	return printChange(stdout, ch)
}

func printChange(w io.Writer, ch AliasChange) error {
	from := "none"
	if ch.Previous > 0 {
		from = strconv.Itoa(ch.Previous)
	}
	_, err := fmt.Fprintf(w, "%s %s: %s -> %d\n", ch.Name, ch.Alias, from, ch.Version)
	return err
}

func cliRollback(ctx context.Context, c *Catalog, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rollback", flag.ContinueOnError)
	alias := fs.String("alias", "champion", "alias to roll back")
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	ch, err := c.Rollback(ctx, pos[0], *alias)
	if err != nil {
		return err
	}
	return printChange(stdout, ch)
}

func cliHistory(_ context.Context, c *Catalog, args []string, stdout io.Writer) error {
	pos, err := parseArgs(flag.NewFlagSet("history", flag.ContinueOnError), args, "NAME")
	if err != nil {
		return err
	}
	if len(c.Versions(pos[0])) == 0 {
		return fmt.Errorf("model %q: %w", pos[0], ErrNotFound)
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "AT\tALIAS\tVERSION\tPREVIOUS\tFORCED\tREASON")
	for _, ch := range c.History(pos[0]) {
		prev := "-"
		if ch.Previous > 0 {
			prev = strconv.Itoa(ch.Previous)
		}
		forced := "no"
		if ch.Forced {
			forced = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", ch.At.UTC().Format(time.RFC3339), ch.Alias, ch.Version, prev, forced, dash(ch.Reason))
	}
	return tw.Flush()
}

// specPath is where export writes the feature mapping of an ONNX file.
func specPath(file string) string {
	return strings.TrimSuffix(file, ".onnx") + ".spec.json"
}

func cliExport(ctx context.Context, c *Catalog, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	out := fs.String("o", "", "file to write the ONNX model to")
	pos, err := parseArgs(fs, args, "NAME", "VERSION|ALIAS")
	if err != nil {
		return err
	}
	if *out == "" {
		return usageErr("export: -o FILE is required")
	}
	v, err := c.Lookup(pos[0], pos[1])
	if err != nil {
		return err
	}
	data, err := c.Artifact(ctx, v.Name, v.Version)
	if err != nil {
		return err
	}
	spec, err := json.MarshalIndent(v.Spec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.WriteFile(specPath(*out), append(spec, '\n'), 0o644); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s version %d -> %s (%d bytes), %s\n", v.Name, v.Version, *out, len(data), specPath(*out))
	return err
}

// ErrImport marks a model import refuses: it does not load in ONNX Runtime
// or its feature mapping does not fit it. The cause (model.ErrBadModel or
// model.ErrBadSpec) is wrapped too.
var ErrImport = errors.New("import refused")

func cliImport(ctx context.Context, c *Catalog, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	specFile := fs.String("spec", "", "JSON feature mapping (model.Spec)")
	alias := fs.String("alias", "", "alias to point at the new version")
	pos, err := parseArgs(fs, args, "NAME", "FILE.onnx")
	if err != nil {
		return err
	}
	if *specFile == "" {
		return usageErr("import: -spec SPEC.json is required")
	}
	name, file := pos[0], pos[1]
	if err := ValidName(name); err != nil {
		return err
	}
	if *alias != "" {
		if err := ValidAlias(*alias); err != nil {
			return err
		}
	}
	rawSpec, err := os.ReadFile(*specFile)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	spec, err := model.ParseSpec(rawSpec)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrImport, *specFile, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	m, err := model.Load(data, model.Options{Spec: &spec})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrImport, file, err)
	}
	m.Close()
	v, err := c.Publish(ctx, Version{
		Name:   name,
		Family: "imported",
		Spec:   spec,
		Source: Source{Description: "imported from " + filepath.Base(file)},
	}, data)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s version %d imported (%d bytes, sha256 %s)\n", v.Name, v.Version, v.Size, v.SHA256); err != nil {
		return err
	}
	if *alias == "" {
		return nil
	}
	ch, err := c.SetAlias(ctx, name, *alias, v.Version, "imported", true)
	if err != nil {
		return err
	}
	return printChange(stdout, ch)
}
