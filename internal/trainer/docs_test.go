package trainer_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
	"github.com/streamscore/streamscore/internal/trainer"
)

// curlPath is the curl the doc's commands run with: the system's, as a
// reader's shell would find it.
const curlPath = "/usr/bin/curl"

// TestAPIDocCurlSession runs the curl commands of docs/api.md verbatim, in
// the doc's order, with /usr/bin/curl through sh, against a trainer served
// here on a port of its own: $TRAINER and $TOKEN are set as the doc says.
// Every request they make must be answered 2xx, so the examples are one
// working session (create, upload, train, wait for a task, predict,
// download, delete), and it must have done what it says: one catalog
// version per training, predictions for the records sent, the ONNX file of
// the latest version. Each command that sends a body is also run once
// without its Content-Type header, first, and must then be refused with 415
// (curl -d alone sends a form): so a line that loses its header fails.
func TestAPIDocCurlSession(t *testing.T) {
	if _, err := os.Stat(curlPath); err != nil {
		t.Fatalf("the doc's commands run with %s: %v", curlPath, err)
	}
	steps, err := docSteps("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 {
		t.Fatal("docs/api.md has no curl command in a sh block")
	}
	svc, token := startDocTrainer(t)
	proxy := startRecordingProxy(t, "http://"+svc.Addr())
	dir := t.TempDir()
	writeReadings(t, filepath.Join(dir, "readings.json"), 2000)
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "TRAINER=" + proxy.url, "TOKEN=" + token}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // bounds a hung step only
	defer cancel()

	var session []exchange
	var predicted string // the predict step's output
	for _, step := range steps {
		if broken, ok := withoutContentType(step); ok {
			res := runStep(ctx, dir, env, broken, proxy)
			if res.failure() == nil || !res.answered(http.StatusUnsupportedMediaType) {
				t.Errorf("without its Content-Type header, this step was not refused with 415 (%v; answers %v):\n%s", res.failure(), res.exchanges, broken)
			}
		}
		res := runStep(ctx, dir, env, step, proxy)
		if err := res.failure(); err != nil {
			t.Fatalf("docs/api.md, this step fails: %v\n%s\nstdout: %s\nstderr: %s", err, step, res.stdout, res.stderr)
		}
		session = append(session, res.exchanges...)
		if res.sent("POST", "/models/sensors/predict") {
			predicted = res.stdout
		}
	}

	// The session covers the routes a reader needs, in a working order.
	for _, want := range []struct{ method, path string }{
		{"PUT", "/models/sensors"}, {"PUT", "/models/sensors/data/train"}, {"PUT", "/models/sensors/train"},
		{"GET", "/tasks/"}, {"POST", "/models/sensors/predict"}, {"GET", "/models/sensors/onnx"},
	} {
		if !slices.ContainsFunc(session, func(e exchange) bool { return e.method == want.method && strings.HasPrefix(e.path, want.path) }) {
			t.Errorf("the session never sends %s %s...; it sent %v", want.method, want.path, session)
		}
	}
	// Every training was published, the task's too: its wait waited.
	trainings := 0
	for _, e := range session {
		if e.method == "PUT" && e.path == "/models/sensors/train" {
			trainings++
		}
	}
	versions := svc.Catalog().Versions("sensors")
	if len(versions) != trainings || trainings == 0 {
		t.Fatalf("%d trainings requested, %d versions in the catalog", trainings, len(versions))
	}
	var prediction struct {
		Predictions []struct {
			Label string `json:"label"`
			Error string `json:"error"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(predicted), &prediction); err != nil || len(prediction.Predictions) == 0 {
		t.Fatalf("predict answered %q (%v)", predicted, err)
	}
	for i, p := range prediction.Predictions {
		if p.Error != "" || p.Label == "" {
			t.Errorf("prediction %d: %+v", i, p)
		}
	}
	// The downloaded file is the latest version, byte for byte.
	files, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if len(files) != 1 {
		t.Fatalf("ONNX files downloaded: %q, want one", files)
	}
	got, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	latest := versions[len(versions)-1]
	want, err := svc.Catalog().Artifact(ctx, "sensors", latest.Version)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s (%d bytes) is not version %d's ONNX (%d bytes)", files[0], len(got), latest.Version, len(want))
	}
}

// docSteps returns the steps of the sh code blocks of the Markdown file at
// path that run curl, in order. A step is a paragraph: lines up to a blank
// line outside a heredoc's body. So a command stays whole with the lines
// that continue it (after a backslash, a pipe, a heredoc), and so do
// commands that share a shell variable; a paragraph without curl (setting
// $TRAINER, say) is not a step, since the test sets the variables.
func docSteps(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	heredoc := regexp.MustCompile(`<<-?\s*['"]?(\w+)['"]?`)
	curl := regexp.MustCompile(`(^|[\s;&|(])curl\s`)
	var steps []string
	var para []string
	flush := func() {
		if s := strings.Join(para, "\n"); curl.MatchString(s) {
			steps = append(steps, s)
		}
		para = nil
	}
	inBlock, end := false, "" // end: the open heredoc's terminator
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !inBlock:
			if fence, ok := strings.CutPrefix(strings.TrimSpace(line), "```"); ok && (fence == "sh" || fence == "bash" || fence == "shell") {
				inBlock = true
			}
		case end != "":
			para = append(para, line)
			if strings.TrimLeft(line, "\t") == end {
				end = ""
			}
		case strings.TrimSpace(line) == "```":
			flush()
			inBlock = false
		case strings.TrimSpace(line) == "":
			flush()
		default:
			para = append(para, line)
			if m := heredoc.FindStringSubmatch(line); m != nil {
				end = m[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if inBlock {
		return nil, fmt.Errorf("%s: a code block is not closed", path)
	}
	return steps, nil
}

// contentType is the header the doc's commands send with a JSON body.
var contentType = regexp.MustCompile(`[ \t]*-H[ \t]*'Content-Type: application/json'`)

// withoutContentType is step with its Content-Type header removed, if it
// has one.
func withoutContentType(step string) (string, bool) {
	if !contentType.MatchString(step) {
		return "", false
	}
	return contentType.ReplaceAllString(step, ""), true
}

// stepResult is what one step printed, how sh ended, and what the trainer
// answered it.
type stepResult struct {
	stdout, stderr string
	err            error
	exchanges      []exchange
}

// failure says why the step failed: sh failed, no request reached the
// trainer, or one was answered other than 2xx.
func (r stepResult) failure() error {
	if r.err != nil {
		return fmt.Errorf("sh: %w", r.err)
	}
	if len(r.exchanges) == 0 {
		return errors.New("no request reached the trainer")
	}
	for _, e := range r.exchanges {
		if e.status < 200 || e.status > 299 {
			return fmt.Errorf("%s %s answered %d", e.method, e.path, e.status)
		}
	}
	return nil
}

func (r stepResult) answered(status int) bool {
	return slices.ContainsFunc(r.exchanges, func(e exchange) bool { return e.status == status })
}

func (r stepResult) sent(method, path string) bool {
	return slices.ContainsFunc(r.exchanges, func(e exchange) bool { return e.method == method && e.path == path })
}

// runStep runs a step with sh -e in dir, with env only.
func runStep(ctx context.Context, dir string, env []string, step string, proxy *recordingProxy) stepResult {
	before := proxy.count()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-ec", step)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stepResult{stdout: stdout.String(), stderr: stderr.String(), err: err, exchanges: proxy.since(before)}
}

// exchange is one request and the status the trainer answered it with.
type exchange struct {
	method, path string
	status       int
}

func (e exchange) String() string { return fmt.Sprintf("%s %s %d", e.method, e.path, e.status) }

// recordingProxy passes requests to the trainer and records every answer's
// status, whatever the command's curl options print.
type recordingProxy struct {
	url  string
	mu   sync.Mutex
	seen []exchange
}

func (p *recordingProxy) add(r *http.Request, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, exchange{r.Method, r.URL.Path, status})
}

func (p *recordingProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

func (p *recordingProxy) since(n int) []exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]exchange(nil), p.seen[n:]...)
}

// startRecordingProxy serves a recordingProxy to target on a port of its
// own until the test ends. An answer is recorded as its headers pass,
// before curl can have read it.
func startRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{url: "http://" + l.Addr().String()}
	srv := &http.Server{Handler: &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(to) },
		ModifyResponse: func(resp *http.Response) error {
			p.add(resp.Request, resp.StatusCode)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			t.Logf("proxy: %s %s: %v", r.Method, r.URL.Path, err)
			p.add(r, http.StatusBadGateway)
			w.WriteHeader(http.StatusBadGateway)
		},
	}}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

// startDocTrainer serves a trainer on the embedded stack, on a port of its
// own and with a random API token, until the test ends.
func startDocTrainer(t *testing.T) (*trainer.Service, string) {
	t.Helper()
	stack := stackkit.Start(t, embedded.Config{})
	var secret [16]byte
	_, _ = rand.Read(secret[:])
	cfg := trainer.DefaultConfig()
	cfg.Kafka.Brokers = stack.Brokers()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.APIToken = hex.EncodeToString(secret[:])
	svc, err := trainer.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, svc)
	return svc, cfg.APIToken
}

// writeReadings writes n sensor readings with their label, as pandas'
// df.to_json(path, orient="records") does; the fields the model does not
// read are there too, as in a real export.
func writeReadings(t *testing.T, path string, n int) {
	t.Helper()
	gen := sample.NewSensors(7, 20, 0.1)
	rows := make([]map[string]any, n)
	for i := range rows {
		rec, anomaly := gen.Next()
		rows[i] = map[string]any{
			"device_id": rec["device_id"], "temperature": rec["temperature"], "humidity": rec["humidity"],
			"vibration": rec["vibration"], "anomaly": anomaly,
		}
	}
	raw, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
