package helm_test

import (
	"bytes"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/stream"
	"github.com/streamscore/streamscore/internal/trainer"
)

const (
	chart     = "streamscore"
	release   = "ss"
	namespace = "streamscore"
	scorerN   = "ss-streamscore-scorer"
	trainerN  = "ss-streamscore-trainer"
	installed = "go install helm.sh/helm/v3/cmd/helm@v3.19.0"
)

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helmBinary finds helm on PATH or in GOPATH/bin, where `go install` and
// scripts/setup.sh put it.
func helmBinary(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		if p, err := exec.LookPath("helm"); err == nil {
			helmPath = p
			return
		}
		for _, dir := range filepath.SplitList(build.Default.GOPATH) {
			p := filepath.Join(dir, "bin", "helm")
			if _, err := os.Stat(p); err == nil {
				helmPath = p
				return
			}
		}
		helmErr = fmt.Errorf("helm not found on PATH or in GOPATH/bin: run `make setup` or `%s`", installed)
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return helmPath
}

// runHelm runs helm in this directory and returns stdout, or an error
// holding stderr.
func runHelm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	// A private home: no repositories, plugins or caches of the user's.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %w: %s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.Bytes(), nil
}

func valueArgs(files []string) []string {
	var args []string
	for _, f := range files {
		args = append(args, "-f", f)
	}
	return args
}

func render(t *testing.T, files ...string) ([]byte, error) {
	t.Helper()
	return runHelm(t, append([]string{"template", release, "./" + chart, "--namespace", namespace}, valueArgs(files)...)...)
}

// manifests are the rendered objects, decoded strictly, by kind and name.
type manifests struct {
	configMaps   map[string]*corev1.ConfigMap
	services     map[string]*corev1.Service
	deployments  map[string]*appsv1.Deployment
	statefulSets map[string]*appsv1.StatefulSet
	pdbs         map[string]*policyv1.PodDisruptionBudget
	hpas         map[string]*autoscalingv2.HorizontalPodAutoscaler
	// custom are the CRD objects, "Kind/name", as maps.
	custom map[string]map[string]any
	raw    string
}

// The custom resources the chart may render, by kind.
var customAPIs = map[string]string{
	"ScaledObject":          "keda.sh/v1alpha1",
	"TriggerAuthentication": "keda.sh/v1alpha1",
	"ServiceMonitor":        "monitoring.coreos.com/v1",
	"PrometheusRule":        "monitoring.coreos.com/v1",
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func decodeStrict[T any](t *testing.T, doc []byte, into map[string]*T, name string) {
	t.Helper()
	obj := new(T)
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("%s: not a valid object: %v\n%s", name, err, doc)
	}
	if _, dup := into[name]; dup {
		t.Fatalf("%s rendered twice", name)
	}
	into[name] = obj
}

func parse(t *testing.T, out []byte) *manifests {
	t.Helper()
	m := &manifests{
		configMaps: map[string]*corev1.ConfigMap{}, services: map[string]*corev1.Service{},
		deployments: map[string]*appsv1.Deployment{}, statefulSets: map[string]*appsv1.StatefulSet{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		custom: map[string]map[string]any{}, raw: string(out),
	}
	for _, doc := range docSep.Split(string(out), -1) {
		var head struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Fatalf("a document without a kind:\n%s", doc)
			}
			continue
		}
		name := head.Metadata.Name
		if name == "" {
			t.Fatalf("%s without a name", head.Kind)
		}
		if head.Metadata.Labels["app.kubernetes.io/instance"] != release || head.Metadata.Labels["app.kubernetes.io/managed-by"] != "Helm" {
			t.Errorf("%s/%s: labels %v lack the release's", head.Kind, name, head.Metadata.Labels)
		}
		b := []byte(doc)
		switch gk := head.APIVersion + " " + head.Kind; gk {
		case "v1 ConfigMap":
			decodeStrict(t, b, m.configMaps, name)
		case "v1 Service":
			decodeStrict(t, b, m.services, name)
		case "apps/v1 Deployment":
			decodeStrict(t, b, m.deployments, name)
		case "apps/v1 StatefulSet":
			decodeStrict(t, b, m.statefulSets, name)
		case "policy/v1 PodDisruptionBudget":
			decodeStrict(t, b, m.pdbs, name)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			decodeStrict(t, b, m.hpas, name)
		default:
			if customAPIs[head.Kind] != head.APIVersion {
				t.Fatalf("unexpected object %s %s", gk, name)
			}
			var obj map[string]any
			if err := yaml.UnmarshalStrict(b, &obj); err != nil {
				t.Fatalf("%s/%s: %v", head.Kind, name, err)
			}
			m.custom[head.Kind+"/"+name] = obj
		}
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// goodValues are the default values ("") and every file in testdata/good.
func goodValues(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no value sets in testdata/good: %v", err)
	}
	return append([]string{""}, files...)
}

func caseName(file string) string {
	if file == "" {
		return "defaults"
	}
	return strings.TrimSuffix(filepath.Base(file), ".yaml")
}

func filesOf(file string) []string {
	if file == "" {
		return nil
	}
	return []string{file}
}

func TestLint(t *testing.T) {
	for _, file := range goodValues(t) {
		t.Run(caseName(file), func(t *testing.T) {
			t.Parallel()
			out, err := runHelm(t, append([]string{"lint", "--strict", "./" + chart}, valueArgs(filesOf(file))...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(out, []byte("0 chart(s) failed")) {
				t.Fatalf("lint:\n%s", out)
			}
		})
	}
}

// TestRender renders every good value set and checks what holds for all:
// strict decoding, pod security, probes, /tmp, secrets by reference only,
// and that each service accepts its rendered configuration.
func TestRender(t *testing.T) {
	for _, file := range goodValues(t) {
		t.Run(caseName(file), func(t *testing.T) {
			t.Parallel()
			out, err := render(t, filesOf(file)...)
			if err != nil {
				t.Fatal(err)
			}
			m := parse(t, out)
			if strings.Contains(m.raw, "kind: Secret\n") {
				t.Error("the chart renders a Secret; it must only reference existing ones")
			}
			for name, d := range m.deployments {
				checkPod(t, m, name, d.Spec.Template, d.Spec.Selector)
			}
			for name, s := range m.statefulSets {
				checkPod(t, m, name, s.Spec.Template, s.Spec.Selector)
			}
			for name, p := range m.pdbs {
				if p.Spec.MaxUnavailable == nil || p.Spec.MaxUnavailable.IntValue() != 1 || p.Spec.MinAvailable != nil {
					t.Errorf("PDB %s: maxUnavailable %v, minAvailable %v; want maxUnavailable 1", name, p.Spec.MaxUnavailable, p.Spec.MinAvailable)
				}
				if !selects(p.Spec.Selector, podLabels(m, name)) {
					t.Errorf("PDB %s selects no pod of its workload", name)
				}
			}
			for name, s := range m.services {
				if !selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}, podLabels(m, strings.TrimSuffix(name, "-headless"))) {
					t.Errorf("service %s selects no pod", name)
				}
				if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Name != "http" || s.Spec.Ports[0].TargetPort.String() != "http" {
					t.Errorf("service %s ports %+v: want one, http", name, s.Spec.Ports)
				}
			}
		})
	}
}

// podLabels are the pod template labels of the workload name.
func podLabels(m *manifests, name string) map[string]string {
	if d, ok := m.deployments[name]; ok {
		return d.Spec.Template.Labels
	}
	if s, ok := m.statefulSets[name]; ok {
		return s.Spec.Template.Labels
	}
	return nil
}

func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil || len(sel.MatchLabels) == 0 || len(sel.MatchExpressions) > 0 || labels == nil {
		return false
	}
	for k, v := range sel.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func checkPod(t *testing.T, m *manifests, name string, pod corev1.PodTemplateSpec, sel *metav1.LabelSelector) {
	t.Helper()
	if !selects(sel, pod.Labels) {
		t.Errorf("%s: selector %v does not select its pods %v", name, sel, pod.Labels)
	}
	if pod.Annotations["checksum/config"] == "" {
		t.Errorf("%s: no checksum/config annotation: a configuration change would not roll the pods", name)
	}
	psc := pod.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod securityContext %+v: want runAsNonRoot and seccomp RuntimeDefault", name, psc)
	}
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.InitContainers) != 0 {
		t.Fatalf("%s: want one container, got %d (+%d init)", name, len(pod.Spec.Containers), len(pod.Spec.InitContainers))
	}
	c := pod.Spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: container securityContext %+v: want read-only root, no privilege escalation, non-root, drop ALL, seccomp RuntimeDefault", name, sc)
	}
	if c.Image != "ghcr.io/streamscore/streamscore:0.1.0" || c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("%s: image %q pull %q", name, c.Image, c.ImagePullPolicy)
	}

	port := int32(8080)
	if c.Name == "trainer" {
		port = 8081
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != port {
		t.Errorf("%s: ports %+v: want http %d", name, c.Ports, port)
	}
	checkProbe(t, name+" liveness", c.LivenessProbe, "/healthz")
	checkProbe(t, name+" readiness", c.ReadinessProbe, "/readyz")
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: resources %+v: want cpu and memory requests and a memory limit", name, c.Resources)
	}

	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	// mounts maps each mount path to the files it shows.
	mounts := map[string]map[string]string{}
	for _, vm := range c.VolumeMounts {
		v, ok := volumes[vm.Name]
		if !ok {
			t.Fatalf("%s: mount of unknown volume %s", name, vm.Name)
		}
		switch {
		case v.EmptyDir != nil:
			if vm.MountPath != "/tmp" {
				t.Errorf("%s: emptyDir at %s", name, vm.MountPath)
			}
			mounts[vm.MountPath] = map[string]string{}
		case v.Secret != nil:
			files := map[string]string{}
			for _, it := range v.Secret.Items {
				files[it.Path] = "secret:" + v.Secret.SecretName + "/" + it.Key
			}
			if len(files) == 0 || !vm.ReadOnly {
				t.Errorf("%s: secret volume %s: want read-only, with items", name, vm.Name)
			}
			mounts[vm.MountPath] = files
		case v.ConfigMap != nil:
			cm, ok := m.configMaps[v.ConfigMap.Name]
			if !ok {
				t.Fatalf("%s: ConfigMap %s is not rendered", name, v.ConfigMap.Name)
			}
			mounts[vm.MountPath] = cm.Data
		default:
			t.Errorf("%s: volume %s is neither emptyDir, Secret nor ConfigMap", name, vm.Name)
		}
	}
	if _, ok := mounts["/tmp"]; !ok {
		t.Errorf("%s: no emptyDir at /tmp (the root file system is read-only)", name)
	}

	env := podEnv(t, name, c.Env)
	for _, v := range c.EnvFrom {
		t.Errorf("%s: envFrom %+v: every variable is listed", name, v)
	}
	args := materialise(t, c.Args, mounts)
	switch c.Name {
	case "scorer":
		if !slices.Equal(c.Command, []string{"scorer"}) {
			t.Errorf("%s: command %q", name, c.Command)
		}
		cfg, err := scorer.ParseConfig(args, env.get)
		if err != nil {
			t.Fatalf("%s: the scorer refuses its configuration: %v\nargs %q", name, err, c.Args)
		}
		checkScorer(t, m, name, cfg, env)
		checkEnvEffect(t, name, scorer.EnvPrefix, env, cfg, func(getenv func(string) string) (any, error) {
			return scorer.ParseConfig(args, getenv)
		})
		checkFiles(t, name, mounts, cfg.Kafka.TLS.CAFile, cfg.Kafka.TLS.CertFile, cfg.Kafka.TLS.KeyFile)
	case "trainer":
		if !slices.Equal(c.Command, []string{"trainer"}) || len(args) == 0 || args[0] != "serve" {
			t.Fatalf("%s: command %q args %q: want trainer serve", name, c.Command, c.Args)
		}
		cfg, rest, err := trainer.ParseConfig("trainer serve", args[1:], env.get)
		if err != nil || len(rest) > 0 {
			t.Fatalf("%s: the trainer refuses its configuration: %v (rest %q)", name, err, rest)
		}
		checkTrainer(t, m, name, cfg, env)
		checkEnvEffect(t, name, trainer.EnvPrefix, env, cfg, func(getenv func(string) string) (any, error) {
			cfg, _, err := trainer.ParseConfig("trainer serve", args[1:], getenv)
			return cfg, err
		})
		checkFiles(t, name, mounts, cfg.Kafka.TLS.CAFile, cfg.Kafka.TLS.CertFile, cfg.Kafka.TLS.KeyFile)
	default:
		t.Fatalf("%s: unknown container %s", name, c.Name)
	}
}

// checkEnvEffect proves every variable with the service's prefix is one
// it reads: the configuration differs, or is refused, without it. The
// services ignore unknown variables, so a misspelt one would go unnoticed.
func checkEnvEffect(t *testing.T, name, prefix string, e env, cfg any, parse func(func(string) string) (any, error)) {
	t.Helper()
	for k := range e.vars {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		without, err := parse(func(v string) string {
			if v == k {
				return ""
			}
			return e.vars[v]
		})
		if err == nil && reflect.DeepEqual(without, cfg) {
			t.Errorf("%s: %s changes nothing: it names no flag of the service", name, k)
		}
	}
}

func checkProbe(t *testing.T, what string, p *corev1.Probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
		t.Errorf("%s probe %+v: want GET %s on port http", what, p, path)
	}
}

// env is a container's environment as the process sees it: secret
// references become "secret:NAME/KEY", the pod name "pod-0".
type env struct {
	vars    map[string]string
	secrets map[string]string // variable -> "NAME/KEY"
}

func (e env) get(k string) string { return e.vars[k] }

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func podEnv(t *testing.T, name string, vars []corev1.EnvVar) env {
	t.Helper()
	e := env{vars: map[string]string{}, secrets: map[string]string{}}
	for _, v := range vars {
		if _, dup := e.vars[v.Name]; dup {
			t.Errorf("%s: %s set twice", name, v.Name)
		}
		upper := strings.ToUpper(v.Name)
		secretish := strings.Contains(upper, "PASSWORD") || strings.Contains(upper, "TOKEN")
		switch {
		case v.ValueFrom == nil:
			if secretish {
				t.Errorf("%s: %s carries a value: secrets come only from secretKeyRef", name, v.Name)
			}
			// Kubernetes expands $(VAR) of the variables before it.
			e.vars[v.Name] = varRef.ReplaceAllStringFunc(v.Value, func(ref string) string {
				if val, ok := e.vars[ref[2:len(ref)-1]]; ok {
					return val
				}
				return ref
			})
		case v.ValueFrom.SecretKeyRef != nil:
			ref := v.ValueFrom.SecretKeyRef.Name + "/" + v.ValueFrom.SecretKeyRef.Key
			e.vars[v.Name] = "secret:" + ref
			e.secrets[v.Name] = ref
		case v.ValueFrom.FieldRef != nil && v.ValueFrom.FieldRef.FieldPath == "metadata.name":
			e.vars[v.Name] = "pod-0"
		default:
			t.Errorf("%s: %s comes from %+v", name, v.Name, v.ValueFrom)
		}
	}
	return e
}

// materialise writes the mounted ConfigMaps into a directory and returns
// args with their mount paths pointing there.
func materialise(t *testing.T, args []string, mounts map[string]map[string]string) []string {
	t.Helper()
	dir := t.TempDir()
	out := slices.Clone(args)
	for path, files := range mounts {
		local := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(local, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, content := range files {
			if err := os.WriteFile(filepath.Join(local, f), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for i, a := range args {
			if strings.HasPrefix(a, path+"/") {
				local := filepath.Join(local, strings.TrimPrefix(a, path+"/"))
				if _, err := os.Stat(local); err != nil {
					t.Errorf("argument %q names no mounted file", a)
				}
				out[i] = local
			}
		}
	}
	return out
}

// checkFiles checks that each path is a file of a mounted Secret.
func checkFiles(t *testing.T, name string, mounts map[string]map[string]string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if p == "" {
			continue
		}
		files, ok := mounts[filepath.Dir(p)]
		if !ok || !strings.HasPrefix(files[filepath.Base(p)], "secret:") {
			t.Errorf("%s: %s is not a file of a mounted Secret", name, p)
		}
	}
}

func checkScorer(t *testing.T, m *manifests, name string, cfg scorer.Config, e env) {
	t.Helper()
	if cfg.HTTPAddr != ":8080" || cfg.Model.Name == "" || cfg.Model.Alias != "champion" || len(cfg.Stream.Topics) == 0 {
		t.Errorf("%s: config %+v", name, cfg)
	}
	if cfg.MemoryLimitMB != 400 || cfg.LogFormat != "json" {
		t.Errorf("%s: memory limit %d MiB, log format %s", name, cfg.MemoryLimitMB, cfg.LogFormat)
	}
	want := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
	}
	got := podContainer(m, name).Resources
	if !got.Requests.Cpu().Equal(*want.Requests.Cpu()) || !got.Requests.Memory().Equal(*want.Requests.Memory()) || !got.Limits.Memory().Equal(*want.Limits.Memory()) {
		t.Errorf("%s: resources %+v, want %+v", name, got, want)
	}
	if lim := got.Limits.Memory().Value() >> 20; int64(cfg.MemoryLimitMB) >= lim {
		t.Errorf("%s: GOMEMLIMIT %d MiB is not below the container's %d MiB", name, cfg.MemoryLimitMB, lim)
	}
	checkSecretWiring(t, name, cfg.Kafka.SASL.Password, cfg.Registry.Password, e, "STREAMSCORE_")
	if cfg.Stream.ExactlyOnce {
		if _, ok := m.statefulSets[name]; !ok {
			t.Errorf("%s: exactly-once outside a StatefulSet: transactional ids would change at every restart", name)
		}
		if want := cfg.Stream.Group + "-pod-0"; cfg.Stream.TransactionalID != want {
			t.Errorf("%s: transactional id %q, want %q (group and pod name)", name, cfg.Stream.TransactionalID, want)
		}
	} else if _, ok := m.deployments[name]; !ok {
		t.Errorf("%s: at least once, want a Deployment", name)
	}
}

func checkTrainer(t *testing.T, m *manifests, name string, cfg trainer.Config, e env) {
	t.Helper()
	if cfg.HTTPAddr != ":8081" || cfg.ModelsTopic != "_streamscore_models" {
		t.Errorf("%s: http %q, models topic %q", name, cfg.HTTPAddr, cfg.ModelsTopic)
	}
	d := m.deployments[name]
	if d == nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("%s: want one replica, replaced with Recreate", name)
	}
	if cfg.MemoryLimitMB != 3200 {
		t.Errorf("%s: memory limit %d MiB, want 3200", name, cfg.MemoryLimitMB)
	}
	limits := podContainer(m, name).Resources.Limits
	if lim := limits.Memory().Value() >> 20; int64(cfg.MemoryLimitMB) >= lim {
		t.Errorf("%s: GOMEMLIMIT %d MiB is not below the container's %d MiB", name, cfg.MemoryLimitMB, lim)
	}
	checkSecretWiring(t, name, cfg.Kafka.SASL.Password, cfg.Registry.Password, e, "STREAMSCORE_TRAINER_")
	if ref, ok := e.secrets["STREAMSCORE_TRAINER_API_TOKEN"]; ok && cfg.APIToken != "secret:"+ref {
		t.Errorf("%s: api token %q, want the Secret %s", name, cfg.APIToken, ref)
	}
}

// checkSecretWiring proves each secret variable reaches the setting it is
// meant for, and that none is in a ConfigMap.
func checkSecretWiring(t *testing.T, name, saslPassword, registryPassword string, e env, prefix string) {
	t.Helper()
	for setting, got := range map[string]string{"SASL_PASSWORD": saslPassword, "REGISTRY_PASSWORD": registryPassword} {
		ref, ok := e.secrets[prefix+setting]
		switch {
		case ok && got != "secret:"+ref:
			t.Errorf("%s: %s is %q, want the Secret %s", name, setting, got, ref)
		case !ok && got != "":
			t.Errorf("%s: %s set from outside a Secret", name, setting)
		}
	}
}

func podContainer(m *manifests, name string) corev1.Container {
	if d, ok := m.deployments[name]; ok {
		return d.Spec.Template.Spec.Containers[0]
	}
	return m.statefulSets[name].Spec.Template.Spec.Containers[0]
}

// renderCase renders one good value set and parses it.
func renderCase(t *testing.T, file string) *manifests {
	t.Helper()
	out, err := render(t, filesOf(file)...)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, out)
}

func scorerConfig(t *testing.T, m *manifests) scorer.Config {
	t.Helper()
	c := podContainer(m, scorerN)
	e := podEnv(t, scorerN, c.Env)
	cfg, err := scorer.ParseConfig(materialise(t, c.Args, configMounts(m, scorerN)), e.get)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func configMounts(m *manifests, name string) map[string]map[string]string {
	return map[string]map[string]string{"/etc/streamscore/config": m.configMaps[name].Data}
}

func TestDefaults(t *testing.T) {
	m := renderCase(t, "")
	d := m.deployments[scorerN]
	if d == nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Fatalf("scorer Deployment with 2 replicas: got %+v", d)
	}
	if m.deployments[trainerN] == nil || len(m.statefulSets) != 0 || len(m.hpas) != 0 || len(m.custom) != 0 {
		t.Errorf("defaults: want the scorer and trainer Deployments only, got %d hpa, %d custom", len(m.hpas), len(m.custom))
	}
	if m.pdbs[scorerN] == nil || m.pdbs[trainerN] != nil {
		t.Error("defaults: want a PDB for the scorer only")
	}
	cfg := scorerConfig(t, m)
	if !slices.Equal(cfg.Kafka.Brokers, []string{"kafka:9092"}) || !slices.Equal(cfg.Stream.Topics, []string{"sensors"}) ||
		cfg.Stream.Group != "streamscore-scorer" || cfg.Stream.OutputTopic != "{topic}.scored" || cfg.Stream.DeadLetterTopic != "streamscore.dlq" ||
		cfg.Stream.MaxBatch != 128 || cfg.Stream.MaxWait != 0 || cfg.Stream.ExactlyOnce || cfg.Model.Name != "sensor-anomaly" ||
		cfg.Model.Topic != "_streamscore_models" || cfg.Model.Threads != 1 || !cfg.CreateTopics || cfg.Kafka.SASL.Mechanism != "" || cfg.Kafka.TLS.Enabled {
		t.Errorf("scorer configuration %+v", cfg)
	}
}

func TestSecureKafka(t *testing.T) {
	m := renderCase(t, "testdata/good/secure-kafka.yaml")
	cfg := scorerConfig(t, m)
	k := cfg.Kafka
	if k.SASL.Mechanism != "SCRAM-SHA-512" || k.SASL.Username != "scorer" || k.SASL.Password != "secret:kafka-sasl/password" ||
		!k.TLS.Enabled || k.TLS.ServerName != "kafka.internal" || k.TLS.CAFile == "" || k.TLS.CertFile == "" || k.TLS.KeyFile == "" {
		t.Errorf("kafka %+v", k)
	}
	if r := cfg.Registry; r.URL != "https://registry.internal:8081" || r.Username != "streamscore" || r.Password != "secret:registry-auth/password" || r.Timeout != 10*time.Second {
		t.Errorf("registry %+v", r)
	}
	for _, name := range []string{scorerN, trainerN} {
		refs := map[string]bool{}
		for _, v := range m.deployments[name].Spec.Template.Spec.Volumes {
			if v.Secret != nil {
				refs[v.Secret.SecretName] = true
			}
		}
		if !refs["kafka-ca"] || !refs["kafka-client"] {
			t.Errorf("%s: secret volumes %v", name, refs)
		}
		if strings.Contains(m.configMaps[name].Data[strings.TrimPrefix(name, "ss-streamscore-")+".yaml"], "password") {
			t.Errorf("%s: the ConfigMap mentions a password", name)
		}
	}
}

func TestExactlyOnce(t *testing.T) {
	m := renderCase(t, "testdata/good/exactly-once.yaml")
	s := m.statefulSets[scorerN]
	if s == nil || m.deployments[scorerN] != nil {
		t.Fatal("exactly-once: want the scorer as a StatefulSet, not a Deployment")
	}
	if *s.Spec.Replicas != 3 || s.Spec.ServiceName != scorerN+"-headless" {
		t.Errorf("replicas %d, serviceName %q", *s.Spec.Replicas, s.Spec.ServiceName)
	}
	if h := m.services[scorerN+"-headless"]; h == nil || h.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Error("no headless governing service")
	}
	cfg := scorerConfig(t, m)
	if !cfg.Stream.ExactlyOnce || cfg.Stream.TransactionalID != "fraud-scorer-pod-0" || cfg.Stream.Group != "fraud-scorer" {
		t.Errorf("stream %+v", cfg.Stream)
	}
}

// TestMembership checks each scorer's group identity: its pod name, which
// a container restart keeps, unless static membership is off, and the
// session timeout, the scorer's default unless set.
func TestMembership(t *testing.T) {
	cases := []struct {
		file     string
		instance string
		session  time.Duration
	}{
		{"", "pod-0", stream.DefaultSessionTimeout},
		{"testdata/good/exactly-once.yaml", "pod-0", stream.DefaultSessionTimeout},
		{"testdata/good/dynamic-membership.yaml", "", 30 * time.Second},
	}
	for _, c := range cases {
		t.Run(caseName(c.file), func(t *testing.T) {
			t.Parallel()
			cfg := scorerConfig(t, renderCase(t, c.file))
			if cfg.Stream.InstanceID != c.instance || cfg.Stream.SessionTimeout != c.session {
				t.Errorf("instance id %q, session timeout %v; want %q, %v", cfg.Stream.InstanceID, cfg.Stream.SessionTimeout, c.instance, c.session)
			}
		})
	}
}

func TestShadow(t *testing.T) {
	cfg := scorerConfig(t, renderCase(t, "testdata/good/shadow.yaml"))
	if cfg.Model.Name != "fraud" || cfg.Model.ShadowAlias != "challenger" || cfg.Stream.ShadowTopic != "{topic}.challenger" ||
		!slices.Equal(cfg.Stream.Topics, []string{"payments", "refunds"}) || cfg.Stream.MaxBatch != 512 ||
		cfg.Stream.MaxWait != 5*time.Millisecond || cfg.Model.Threads != 2 {
		t.Errorf("config %+v", cfg)
	}
}

func TestHPA(t *testing.T) {
	m := renderCase(t, "testdata/good/hpa.yaml")
	h := m.hpas[scorerN]
	if h == nil {
		t.Fatal("no HPA")
	}
	if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != scorerN || *h.Spec.MinReplicas != 2 || h.Spec.MaxReplicas != 12 {
		t.Errorf("HPA %+v", h.Spec)
	}
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU ||
		*h.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 {
		t.Errorf("metrics %+v", h.Spec.Metrics)
	}
	if m.deployments[scorerN].Spec.Replicas != nil {
		t.Error("the Deployment sets replicas: every upgrade would undo the autoscaler")
	}
}

func TestKEDA(t *testing.T) {
	m := renderCase(t, "testdata/good/keda.yaml")
	so := m.custom["ScaledObject/"+scorerN]
	if so == nil {
		t.Fatal("no ScaledObject")
	}
	if m.deployments[scorerN].Spec.Replicas != nil || len(m.hpas) != 0 {
		t.Error("with KEDA the Deployment sets no replicas and the chart no HPA")
	}
	want := map[string]any{
		"spec.scaleTargetRef.name":                         scorerN,
		"spec.scaleTargetRef.kind":                         "Deployment",
		"spec.minReplicaCount":                             float64(1),
		"spec.maxReplicaCount":                             float64(8),
		"spec.triggers.0.type":                             "kafka",
		"spec.triggers.0.metadata.bootstrapServers":        "kafka:9093",
		"spec.triggers.0.metadata.consumerGroup":           "streamscore-scorer",
		"spec.triggers.0.metadata.topic":                   "sensors",
		"spec.triggers.0.metadata.lagThreshold":            "5000",
		"spec.triggers.0.metadata.sasl":                    "plaintext",
		"spec.triggers.0.metadata.tls":                     "enable",
		"spec.triggers.0.authenticationRef.name":           scorerN,
		"spec.triggers.1":                                  nil,
		"spec.triggers.0.metadata.allowIdleConsumers":      nil,
		"spec.triggers.0.metadata.excludePersistentLag":    nil,
		"spec.triggers.0.metadata.limitToPartitionsWithLa": nil,
	}
	checkFields(t, "ScaledObject", so, want)
	// KEDA's group must be the scorer's own.
	if cfg := scorerConfig(t, m); cfg.Stream.Group != "streamscore-scorer" {
		t.Errorf("scorer group %q", cfg.Stream.Group)
	}
	ta := m.custom["TriggerAuthentication/"+scorerN]
	if ta == nil {
		t.Fatal("no TriggerAuthentication")
	}
	checkFields(t, "TriggerAuthentication", ta, map[string]any{
		"spec.env.0.parameter":             "username",
		"spec.env.0.name":                  "STREAMSCORE_SASL_USERNAME",
		"spec.env.0.containerName":         "scorer",
		"spec.secretTargetRef.0.parameter": "password",
		"spec.secretTargetRef.0.name":      "kafka-sasl",
		"spec.secretTargetRef.0.key":       "password",
		"spec.secretTargetRef.1.parameter": "ca",
		"spec.secretTargetRef.1.name":      "kafka-ca",
		"spec.secretTargetRef.2":           nil,
	})
}

func TestServiceMonitor(t *testing.T) {
	m := renderCase(t, "testdata/good/servicemonitor.yaml")
	sm := m.custom["ServiceMonitor/ss-streamscore"]
	if sm == nil {
		t.Fatal("no ServiceMonitor")
	}
	checkFields(t, "ServiceMonitor", sm, map[string]any{
		"metadata.labels.release":   "prometheus",
		"spec.endpoints.0.port":     "http",
		"spec.endpoints.0.path":     "/metrics",
		"spec.endpoints.0.interval": "15s",
		"spec.endpoints.1":          nil,
	})
	sel := map[string]string{}
	for k, v := range field(sm, "spec.selector.matchLabels").(map[string]any) {
		sel[k] = v.(string)
	}
	var scraped []string
	for name, s := range m.services {
		if selects(&metav1.LabelSelector{MatchLabels: sel}, s.Labels) {
			scraped = append(scraped, name)
		}
	}
	slices.Sort(scraped)
	if !slices.Equal(scraped, []string{scorerN, trainerN}) {
		t.Errorf("the ServiceMonitor selects %v, want the scorer and trainer services", scraped)
	}
}

func TestTrainerJobs(t *testing.T) {
	m := renderCase(t, "testdata/good/trainer-jobs.yaml")
	if len(m.statefulSets) != 0 || m.deployments[scorerN] != nil || m.configMaps[scorerN] != nil || m.services[scorerN] != nil || m.pdbs[scorerN] != nil {
		t.Error("scorer.enabled false still renders scorer objects")
	}
	if m.pdbs[trainerN] == nil {
		t.Error("no trainer PDB")
	}
	c := m.deployments[trainerN].Spec.Template.Spec.Containers[0]
	e := podEnv(t, trainerN, c.Env)
	cfg, _, err := trainer.ParseConfig("trainer serve", materialise(t, c.Args, configMounts(m, trainerN))[1:], e.get)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jobs) != 2 || cfg.Jobs[0].Name != "sensor-anomaly" || cfg.Jobs[1].Name != "spam" || cfg.APIToken != "secret:trainer-api/token" {
		t.Errorf("trainer config: %d jobs, token %q", len(cfg.Jobs), cfg.APIToken)
	}
	// The jobs are the ones the trainer's own example file holds.
	ref, _, err := trainer.ParseConfig("trainer", []string{"-config", "../internal/trainer/testdata/trainer.yaml"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, _ := yaml.Marshal(cfg.Jobs)
	b, _ := yaml.Marshal(ref.Jobs)
	if !bytes.Equal(a, b) {
		t.Errorf("rendered jobs differ from internal/trainer/testdata/trainer.yaml:\n%s\nwant\n%s", a, b)
	}
}

// checkFields compares dotted paths of an unstructured object; nil wants
// the field absent.
func checkFields(t *testing.T, what string, obj map[string]any, want map[string]any) {
	t.Helper()
	for path, w := range want {
		if got := field(obj, path); fmt.Sprint(got) != fmt.Sprint(w) || (w == nil) != (got == nil) {
			t.Errorf("%s %s = %v, want %v", what, path, got, w)
		}
	}
}

func field(obj any, path string) any {
	cur := obj
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// TestBadValues renders each file of testdata/bad, whose first line says
// "# want: TEXT", and expects helm to refuse it naming TEXT.
func TestBadValues(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad value sets: %v", err)
	}
	for _, file := range files {
		t.Run(caseName(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("%s: the first line must be \"# want: TEXT\"", file)
			}
			_, err = render(t, file)
			if err == nil {
				t.Fatalf("helm template accepted %s", file)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("the error does not name %q:\n%v", want, err)
			}
		})
	}
}

// renderNotes renders NOTES.txt, which `helm template` skips, through a
// copy of the chart that exposes it as a ConfigMap.
func renderNotes(t *testing.T, files ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), chart)
	if err := os.CopyFS(dir, os.DirFS(chart)); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(chart, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), notes, 0o600); err != nil {
		t.Fatal(err)
	}
	expose := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get \"notes.txt\") . | quote }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "notes-check.yaml"), []byte(expose), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"template", release, dir, "--namespace", namespace, "--show-only", "templates/notes-check.yaml"}, valueArgs(files)...)
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(out, &cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data["notes"]
}

// TestNotes checks that NOTES.txt tells the operator how to check the
// release, and how to find the dashboard and the alerts when enabled.
func TestNotes(t *testing.T) {
	cases := []struct {
		file       string
		want, none []string
	}{
		{
			file: "testdata/good/exactly-once.yaml",
			want: []string{
				"kubectl -n streamscore rollout status statefulset/" + scorerN,
				"port-forward svc/" + scorerN + " 8080:8080",
				"curl -fsS localhost:8080/readyz",
				"curl -fsS localhost:8080/metrics",
				"kubectl -n streamscore rollout status deployment/" + trainerN,
				"curl -fsS localhost:8081/readyz",
				"exec deploy/" + trainerN + " -- trainer models -config /etc/streamscore/config/trainer.yaml list",
			},
			none: []string{"Monitoring", "prometheusrule", "dashboard"},
		},
		{
			file: "testdata/good/monitoring.yaml",
			want: []string{
				"kubectl -n grafana get configmap " + dashboardN + " -L grafana.example.com/dashboard",
				"labelled grafana.example.com/dashboard=streamscore into folder \"Machine learning\"",
				"kubectl -n streamscore get prometheusrule ss-streamscore",
				"StreamscoreFeatureDrift (PSI > 0.3)",
			},
			none: []string{"serviceMonitor.enabled is false"},
		},
	}
	for _, c := range cases {
		t.Run(caseName(c.file), func(t *testing.T) {
			t.Parallel()
			text := renderNotes(t, c.file)
			for _, want := range c.want {
				if !strings.Contains(text, want) {
					t.Errorf("NOTES.txt lacks %q:\n%s", want, text)
				}
			}
			for _, none := range c.none {
				if strings.Contains(text, none) {
					t.Errorf("NOTES.txt says %q:\n%s", none, text)
				}
			}
		})
	}
}
