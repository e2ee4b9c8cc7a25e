// Package flagconf reads a service's configuration from, in rising order of
// precedence, its defaults, a YAML file (-config), environment variables
// (a prefix plus the flag name in upper snake case) and flags. The scorer
// and the trainer read theirs the same way.
package flagconf

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrBadConfig marks configuration errors; a main exits 2 on them.
var ErrBadConfig = errors.New("bad configuration")

// Parse fills cfg, which holds the defaults, from the file named by -config
// (or PREFIX_CONFIG), then the environment, then args; bind defines the
// flags, writing into cfg; usage receives the usage text of -help and of a
// bad flag. It returns the arguments left after the flags. flag.ErrHelp is
// returned as is; every other error wraps ErrBadConfig and names the
// setting.
func Parse(name, envPrefix string, args []string, getenv func(string) string, usage io.Writer, cfg any, bind func(*flag.FlagSet)) ([]string, error) {
	if path := configPath(args, envPrefix, getenv); path != "" {
		if err := loadYAML(path, cfg); err != nil {
			return nil, err
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.String("config", "", "YAML configuration file (env "+envPrefix+"CONFIG)")
	bind(fs)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%w: %s: %w", ErrBadConfig, env, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return fs.Args(), nil
}

// configPath finds -config in the arguments or the environment before the
// flags are parsed, since the file's values sit under the flags'.
func configPath(args []string, envPrefix string, getenv func(string) string) string {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return getenv(envPrefix + "CONFIG")
}

func loadYAML(path string, cfg any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: config file: %w", ErrBadConfig, err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("%w: config file %s: %w", ErrBadConfig, path, err)
	}
	return nil
}
