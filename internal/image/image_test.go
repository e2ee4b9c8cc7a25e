package image

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts, 1-based
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// stage is one FROM and the instructions under it.
type stage struct {
	from  string // image reference as written
	name  string // after AS, if any
	instr []instruction
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// parseDockerfile reads the instructions of path, without comments and with
// continuation lines joined, and splits them into the global ARGs and stages.
func parseDockerfile(t *testing.T, path string) (args []instruction, stages []stage) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		sc      = bufio.NewScanner(f)
		n       int
		pending strings.Builder
		start   int
	)
	add := func(text string, line int) {
		cmd, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
		in := instruction{line: line, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(rest)}
		switch {
		case in.cmd == "FROM":
			fields := strings.Fields(in.args)
			s := stage{from: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				s.name = fields[2]
			}
			stages = append(stages, s)
		case len(stages) == 0:
			args = append(args, in)
		default:
			stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, in)
		}
	}
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(body + " ")
			continue
		}
		pending.WriteString(line)
		add(pending.String(), start)
		pending.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if pending.Len() > 0 {
		t.Fatalf("%s:%d: continuation line at the end of the file", path, start)
	}
	return args, stages
}

// scriptValue reads NAME=VALUE from scripts/image.sh, so that the Dockerfile
// and the script are checked against each other, not against copies here.
func scriptValue(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "scripts", "image.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("scripts/image.sh sets no %s", name)
	}
	return string(m[1])
}

func goVersion(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}

func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	globals, stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	final := stages[len(stages)-1]
	named := map[string]bool{}
	for _, s := range stages {
		named[s.name] = true
	}

	t.Run("build stages are named and pinned", func(t *testing.T) {
		for _, s := range stages[:len(stages)-1] {
			if s.name == "" {
				t.Errorf("FROM %s: no AS name", s.from)
			}
			if !strings.Contains(s.from, ":") || strings.HasSuffix(s.from, ":latest") {
				t.Errorf("FROM %s: no pinned tag", s.from)
			}
		}
	})

	t.Run("Go version is go.mod's", func(t *testing.T) {
		want := goVersion(t, root)
		var arg string
		for _, in := range globals {
			if v, ok := strings.CutPrefix(in.args, "GO_VERSION="); in.cmd == "ARG" && ok {
				arg = v
			}
		}
		if arg != want {
			t.Errorf("ARG GO_VERSION=%q, go.mod says go %s", arg, want)
		}
		var golang int
		for _, s := range stages {
			if strings.HasPrefix(s.from, "golang:") {
				golang++
				if !strings.HasPrefix(s.from, "golang:${GO_VERSION}") {
					t.Errorf("FROM %s: want golang:${GO_VERSION}", s.from)
				}
			}
		}
		if golang != 1 {
			t.Errorf("%d golang stages, want 1", golang)
		}
	})

	t.Run("runtime stage", func(t *testing.T) {
		if final.from != "gcr.io/distroless/cc-debian12:nonroot" {
			t.Errorf("runtime base %s: scripts/image.sh checks the libraries against gcr.io/distroless/cc-debian12", final.from)
		}
		var user, env, expose, cmd []instruction
		for _, in := range final.instr {
			switch in.cmd {
			case "RUN":
				t.Errorf("line %d: RUN in the runtime stage, which has no shell", in.line)
			case "USER":
				user = append(user, in)
			case "ENV":
				env = append(env, in)
			case "EXPOSE":
				expose = append(expose, in)
			case "CMD", "ENTRYPOINT":
				cmd = append(cmd, in)
			}
		}
		if len(user) != 1 {
			t.Fatalf("%d USER lines in the runtime stage, want 1", len(user))
		}
		// Kubernetes can only enforce runAsNonRoot on a numeric user.
		for _, id := range strings.Split(user[0].args, ":") {
			if n, err := strconv.Atoi(id); err != nil || n == 0 {
				t.Errorf("USER %s: want a numeric, non-root uid:gid", user[0].args)
				break
			}
		}
		wantEnv := model.LibraryEnv + "=" + scriptValue(t, root, "ort_path")
		if !slices.ContainsFunc(env, func(in instruction) bool { return in.args == wantEnv }) {
			t.Errorf("no ENV %s", wantEnv)
		}
		var ports []string
		for _, in := range expose {
			ports = append(ports, strings.Fields(in.args)...)
		}
		for _, p := range []string{"8080", "8081"} {
			if !slices.Contains(ports, p) {
				t.Errorf("port %s not exposed (EXPOSE %v)", p, ports)
			}
		}
		if len(cmd) == 0 {
			t.Error("no CMD or ENTRYPOINT")
		}
		for _, in := range cmd {
			if !strings.HasPrefix(in.args, "[") {
				t.Errorf("line %d: %s in shell form, but the runtime base has no shell", in.line, in.cmd)
			}
		}
	})

	t.Run("copies and downloads", func(t *testing.T) {
		for _, s := range stages {
			for _, in := range s.instr {
				switch in.cmd {
				case "ADD":
					// COPY for files, the script (checksummed) for downloads.
					t.Errorf("line %d: ADD %s: use COPY, and fetch in scripts/image.sh", in.line, in.args)
				case "COPY":
					for _, f := range strings.Fields(in.args) {
						if from, ok := strings.CutPrefix(f, "--from="); ok && !named[from] {
							t.Errorf("line %d: COPY --from=%s: no such stage", in.line, from)
						}
					}
				}
			}
		}
	})

	t.Run("RUN calls scripts/image.sh", func(t *testing.T) {
		steps := map[string]bool{}
		runStep := regexp.MustCompile(`^scripts/image\.sh (ort|build|check) /out$`)
		for _, s := range stages {
			for _, in := range s.instr {
				if in.cmd != "RUN" || in.args == "go mod download" {
					continue
				}
				m := runStep.FindStringSubmatch(in.args)
				if m == nil {
					t.Errorf("line %d: RUN %s: every build step belongs in scripts/image.sh", in.line, in.args)
					continue
				}
				steps[m[1]] = true
			}
		}
		for _, step := range []string{"ort", "build", "check"} {
			if !steps[step] {
				t.Errorf("no RUN scripts/image.sh %s", step)
			}
		}
	})
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	// .cache holds the developer's ONNX Runtime: the image must fetch and
	// check its own, not whatever lies in the build context.
	for _, want := range []string{".git", ".cache", "bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
}

// TestImageScript runs the image's build steps as the Dockerfile does, into
// a temporary tree, and checks what they staged.
func TestImageScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries")
	}
	root := repoRoot(t)
	lib := ortkit.Library()
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("ONNX Runtime not installed (run make setup): %v", err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "image.sh"), "all", out)
	cmd.Env = append(os.Environ(), "ORT_LIB="+lib)
	report, err := cmd.CombinedOutput()
	t.Logf("scripts/image.sh all:\n%s", report)
	if err != nil {
		t.Fatalf("scripts/image.sh all: %v", err)
	}

	staged := filepath.Join(out, scriptValue(t, root, "ort_path"))
	st, err := os.Stat(staged)
	if err != nil {
		t.Fatalf("library not staged: %v", err)
	}
	if want, _ := os.Stat(lib); st.Size() != want.Size() {
		t.Errorf("staged library is %d bytes, %s is %d", st.Size(), lib, want.Size())
	}
	// The binaries only load the library when they score or train; load it
	// here, so a staged file that ONNX Runtime cannot open fails the test.
	if err := model.Init(staged); err != nil {
		t.Errorf("load the staged library: %v", err)
	}

	for _, name := range []string{"scorer", "trainer"} {
		bin := filepath.Join(out, "usr", "local", "bin", name)
		st, err := os.Stat(bin)
		if err != nil {
			t.Errorf("%s not staged: %v", name, err)
			continue
		}
		if st.Mode().Perm()&0o111 != 0o111 {
			t.Errorf("%s mode %v: not executable by every user", name, st.Mode())
		}
		for _, tc := range []struct {
			args []string
			code int
		}{
			{[]string{"-help"}, 0},
			{[]string{"-no-such-flag"}, 2},
		} {
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			cmd.Env = []string{model.LibraryEnv + "=" + staged}
			err := cmd.Run()
			code := 0
			if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatalf("%s %v: %v", name, tc.args, err)
			}
			if code != tc.code {
				t.Errorf("%s %v: exit status %d, want %d", name, tc.args, code, tc.code)
			}
		}
	}
}
