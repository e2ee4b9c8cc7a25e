package main

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

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/trainer"
)

// cliCommand is one catalog command: its arguments and a one-line
// description for the usage text, and whether it loads models in ONNX
// Runtime (the others read or write the catalog only).
type cliCommand struct {
	name, args, about string
	loadsModels       bool
	run               func(context.Context, *catalog.Catalog, []string, io.Writer) error
}

// cliCommands are the catalog commands, in the order the usage lists them
// (a function, since the usage text that usage errors carry is made from
// it).
func cliCommands() []cliCommand {
	return []cliCommand{
		{name: "list", about: "models, their version counts and aliases", run: cliList},
		{name: "versions", args: "NAME", about: "a model's versions, metrics and aliases", run: cliVersions},
		{name: "show", args: "NAME VERSION|ALIAS", about: "one version's metadata, as JSON (category tables: count and first few)", run: cliShow},
		{name: "history", args: "NAME [-json]", about: "every alias change, oldest first, with the evidence an online promotion rested on", run: cliHistory},
		{name: "export", args: "NAME VERSION|ALIAS -o FILE", about: "write the model to FILE, its feature mapping to FILE.spec.json", run: cliExport},
		{name: "promote", args: "NAME VERSION [-alias A] [-reason R]", about: "point alias A (champion) at a version, recorded as forced", run: cliPromote},
		{name: "rollback", args: "NAME [-alias A]", about: "undo the last change of alias A (champion)", run: cliRollback},
		{name: "import", args: "NAME FILE.onnx -spec SPEC [-alias A]", about: "publish a model trained elsewhere (its aliases: below)", loadsModels: true, run: cliImport},
	}
}

// importAliases says which aliases import moves, below the commands.
const importAliases = `import loads the model in ONNX Runtime with its spec (a JSON model.Spec) and
refuses one that does not fit. The new version becomes the challenger, and
the champion too if the model has none (as a trained version would); with
-alias A only alias A is moved, recorded as forced.`

func findCommand(name string) (cliCommand, bool) {
	for _, c := range cliCommands() {
		if c.name == name {
			return c, true
		}
	}
	return cliCommand{}, false
}

// isCatalogCommand reports whether name is one of the catalog commands, so
// that a caller can refuse a mistyped one before it connects to anything.
func isCatalogCommand(name string) bool {
	_, ok := findCommand(name)
	return ok
}

// catalogUsage lists the catalog commands, one a line: the command and its
// arguments, then what it does; then what import does with aliases.
func catalogUsage() string {
	var b strings.Builder
	b.WriteString("Commands:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range cliCommands() {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.about)
	}
	tw.Flush()
	b.WriteString("\n" + importAliases)
	return b.String()
}

// catalogCLI runs catalog commands, as `trainer models` does.
type catalogCLI struct {
	catalog *catalog.Catalog
	// loadRuntime readies ONNX Runtime (model.Init). It is called only
	// before a command that loads a model (import), so that the others
	// work where ONNX Runtime is absent. Nil: model.Init has run already.
	loadRuntime func() error
}

// run runs one catalog command (args[0] is the command, as in `trainer
// models list`) and writes its output to stdout. It syncs the catalog
// first. Command-line mistakes wrap trainer.ErrUsage (exit status 2).
func (cli catalogCLI) run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr("no command")
	}
	cmd, ok := findCommand(args[0])
	if !ok {
		return usageErr("unknown command %q", args[0])
	}
	if cmd.loadsModels && cli.loadRuntime != nil {
		if err := cli.loadRuntime(); err != nil {
			return fmt.Errorf("%s: %w", cmd.name, err)
		}
	}
	if err := cli.catalog.Sync(ctx); err != nil {
		return err
	}
	return cmd.run(ctx, cli.catalog, args[1:], stdout)
}

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s\n%s", trainer.ErrUsage, fmt.Sprintf(format, args...), catalogUsage())
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

func cliList(_ context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
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

func cliVersions(_ context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
	pos, err := parseArgs(flag.NewFlagSet("versions", flag.ContinueOnError), args, "NAME")
	if err != nil {
		return err
	}
	name := pos[0]
	vs := c.Versions(name)
	if len(vs) == 0 {
		return fmt.Errorf("model %q: %w", name, catalog.ErrNotFound)
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

func cliShow(_ context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
	pos, err := parseArgs(flag.NewFlagSet("show", flag.ContinueOnError), args, "NAME", "VERSION|ALIAS")
	if err != nil {
		return err
	}
	v, err := c.Lookup(pos[0], pos[1])
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(summarizeCategories(v), "", "  ")
	if err != nil {
		return fmt.Errorf("encode version: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}

// shownCategories is how many of a categorical feature's categories show
// prints; the table of a version, up to 253 categories a feature, would
// otherwise be most of its output. export writes the spec whole.
const shownCategories = 5

// The version as show prints it: each field below shadows the embedded
// one of the same JSON name, so a spec feature's categories print as a
// categorySummary and everything else as the version encodes. A shadowing
// field encodes after the embedded type's fields: the spec comes last,
// below the version's short facts, and a feature's categories after its
// unknown rule.
type (
	shownVersion struct {
		catalog.Version
		Spec shownSpec `json:"spec"`
	}
	shownSpec struct {
		model.Spec
		Inputs []shownInput `json:"inputs"`
	}
	shownInput struct {
		model.Input
		Fields []shownFeature `json:"fields"`
	}
	shownFeature struct {
		model.Feature
		Categories *categorySummary `json:"categories,omitempty"`
	}
	categorySummary struct {
		Count int      `json:"count"`
		First []string `json:"first"`
	}
)

// summarizeCategories is v with every categories table replaced by its
// count and first few entries:
// "categories": {"count": 253, "first": ["ams-01", ...]}.
func summarizeCategories(v catalog.Version) shownVersion {
	out := shownVersion{Version: v, Spec: shownSpec{Spec: v.Spec, Inputs: make([]shownInput, 0, len(v.Spec.Inputs))}}
	for _, in := range v.Spec.Inputs {
		si := shownInput{Input: in, Fields: make([]shownFeature, 0, len(in.Fields))}
		for _, f := range in.Fields {
			sf := shownFeature{Feature: f}
			if f.Categories != nil {
				sf.Categories = &categorySummary{Count: len(f.Categories), First: f.Categories[:min(len(f.Categories), shownCategories)]}
			}
			si.Fields = append(si.Fields, sf)
		}
		out.Spec.Inputs = append(out.Spec.Inputs, si)
	}
	return out
}

func cliPromote(ctx context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
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

func printChange(w io.Writer, ch catalog.AliasChange) error {
	from := "none"
	if ch.Previous > 0 {
		from = strconv.Itoa(ch.Previous)
	}
	_, err := fmt.Fprintf(w, "%s %s: %s -> %d\n", ch.Name, ch.Alias, from, ch.Version)
	return err
}

func cliRollback(ctx context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
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

func cliHistory(_ context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the changes as a JSON array")
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	if len(c.Versions(pos[0])) == 0 {
		return fmt.Errorf("model %q: %w", pos[0], catalog.ErrNotFound)
	}
	history := c.History(pos[0])
	if *asJSON {
		out, err := json.MarshalIndent(history, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", out)
		return err
	}
	// The table is laid out first, then each change's evidence goes on a
	// line of its own below it: a line without the table's cells would
	// break the columns in two.
	var table strings.Builder
	tw := newTable(&table)
	fmt.Fprintln(tw, "AT\tALIAS\tVERSION\tPREVIOUS\tFORCED\tREASON")
	for _, ch := range history {
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
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(table.String(), "\n")
	var b strings.Builder
	b.WriteString(lines[0])
	for i, ch := range history {
		b.WriteString(lines[i+1])
		if ev := ch.Evidence; ev != nil {
			fmt.Fprintf(&b, "  evidence: %s challenger v%d %.4g vs champion v%d %.4g, %d paired, %s z=%.3g p=%.3g, window ending %s\n",
				ev.Metric, ev.ChallengerVersion, ev.ChallengerValue, ev.ChampionVersion, ev.ChampionValue, ev.Paired,
				ev.Test, ev.Z, ev.PValue, ev.WindowEnd.UTC().Format(time.RFC3339))
		}
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

// specPath is where export writes the feature mapping of an ONNX file.
func specPath(file string) string {
	return strings.TrimSuffix(file, ".onnx") + ".spec.json"
}

func cliExport(ctx context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
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

// errImport marks a model import refuses: it does not load in ONNX Runtime
// or its feature mapping does not fit it. The cause (model.ErrBadModel or
// model.ErrBadSpec) is wrapped too.
var errImport = errors.New("import refused")

func cliImport(ctx context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	specFile := fs.String("spec", "", "JSON feature mapping (model.Spec)")
	alias := fs.String("alias", "", "the one alias to point at the new version (default: challenger, and champion if the model has none)")
	sample := fs.String("profile-sample", "", "JSON Lines of training records (keyed by Avro field names, as the REST API's rows) to take the version's drift reference from")
	pos, err := parseArgs(fs, args, "NAME", "FILE.onnx")
	if err != nil {
		return err
	}
	if *specFile == "" {
		return usageErr("import: -spec SPEC.json is required")
	}
	name, file := pos[0], pos[1]
	if err := catalog.ValidName(name); err != nil {
		return err
	}
	if *alias != "" {
		if err := catalog.ValidAlias(*alias); err != nil {
			return err
		}
	}
	rawSpec, err := os.ReadFile(*specFile)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	spec, err := model.ParseSpec(rawSpec)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errImport, *specFile, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	m, err := model.Load(data, model.Options{Spec: &spec})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errImport, file, err)
	}
	var (
		profile *drift.Profile
		skipped int
	)
	if *sample != "" {
		profile, skipped, err = importProfile(m, *sample)
	}
	m.Close()
	if err != nil {
		return err
	}
	version, dropped := catalog.Version{
		Name:    name,
		Family:  "imported",
		Spec:    spec,
		Source:  catalog.Source{Description: "imported from " + filepath.Base(file)},
		Profile: profile,
	}.FitProfile()
	v, err := c.Publish(ctx, version, data)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s version %d imported (%d bytes, sha256 %s)\n", v.Name, v.Version, v.Size, v.SHA256); err != nil {
		return err
	}
	note := noProfile
	switch {
	case dropped:
		note = "no reference profile: the spec leaves no room for it in the catalog's metadata, so drift is not measured for this version"
	case profile != nil:
		note = fmt.Sprintf("reference profile of %d rows (%d records of the sample skipped: the model cannot score them)", profile.Rows, skipped)
	}
	if _, err := fmt.Fprintln(stdout, note); err != nil {
		return err
	}
	if *alias != "" {
		ch, err := c.SetAlias(ctx, name, *alias, v.Version, "imported", true)
		if err != nil {
			return err
		}
		return printChange(stdout, ch)
	}
	return importAliasesDefault(ctx, c, v, stdout)
}

// importAliasesDefault moves the aliases an import without -alias moves, as
// the trainer does for a version it publishes: the challenger, and the
// champion if the model has none yet, so that a first import is served.
// An existing champion is left for a person to replace, said in the output.
func importAliasesDefault(ctx context.Context, c *catalog.Catalog, v catalog.Version, stdout io.Writer) error {
	champion, err := c.Resolve(v.Name, jobs.AliasChampion)
	hasChampion := err == nil
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	ch, err := c.SetAlias(ctx, v.Name, jobs.AliasChallenger, v.Version, "imported", false)
	if err != nil {
		return err
	}
	if err := printChange(stdout, ch); err != nil {
		return err
	}
	if hasChampion {
		_, err := fmt.Fprintf(stdout, "%s champion stays %d (trainer models promote %s %d to serve the import)\n", v.Name, champion.Version, v.Name, v.Version)
		return err
	}
	ch, err = c.SetAlias(ctx, v.Name, jobs.AliasChampion, v.Version, "imported, first champion", false)
	if err != nil {
		return err
	}
	return printChange(stdout, ch)
}
