package registry

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Persistence: an append-only log, registry.log in Config.Dir. Each write
// appends one line holding one change (see change.go) and fsyncs the file
// before the write is answered or published, so an acknowledged write
// survives a crash. A write costs the size of its change, not of the whole
// state: registering a schema appends the schema's text once, a delete or
// a level change a few dozen bytes.
//
// A line is "CCCCCCCC {json}\n": the CRC-32C of the JSON in hex, a space,
// the change as JSON. The first line is a header with the format and the
// next id. At start the log is replayed through state.apply, the same code
// live writes go through.
//
// A crash can leave the last line torn: cut short, or (with pages of a
// large line written out of order) complete but with a bad checksum. That
// line was never acknowledged (its fsync had not returned), so it is cut
// off with a warning. A bad line followed by others is damage to data that
// was acknowledged: the registry refuses to start and names the line and
// its byte offset rather than guess.
//
// The log is rewritten from memory (temp file, fsync, rename, fsync of the
// directory) when it is created, when a data directory holding the old
// registry.json snapshot is migrated, at start when it carries more than
// compactSlack lines the state no longer needs (levels set again, versions
// deleted), and before the next append when an append failed half-way or
// the file was removed or replaced under the running registry.
//
// One Registry may use a Dir at a time; nothing stops a second process
// from appending to the first one's log.

const (
	logName   = "registry.log"
	logFormat = 1
	// maxLineBytes bounds one line, at replay as at write: a schema that an
	// older version accepted (up to the whole 4 MiB body) escaped as a JSON
	// string (at most twice as long), and the change's other fields. A
	// corrupt file cannot make replay hold more than this of it at once.
	maxLineBytes = 2*MaxRequestBytes + 64<<10
	// compactSlack is how many replaced lines a log may carry before the
	// start rewrites it.
	compactSlack = 1024
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// logStore appends changes to the log in one directory.
type logStore struct {
	dir string
	log *slog.Logger
	f   *os.File // open for appending
	// info identifies f, to notice the file being removed or replaced.
	info fs.FileInfo
	// size is the length of the complete lines in f.
	size int64
	// broken means f may hold a partial line or data whose fsync failed:
	// the next append rewrites the log from memory first.
	broken bool
}

func (s *logStore) path() string { return filepath.Join(s.dir, logName) }

// openLog opens the log in dir and returns it with the state it holds:
// replayed from an existing log, migrated from an older version's
// snapshot, or empty in a new directory.
func openLog(dir string, logger *slog.Logger) (*logStore, *state, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := removeStaleTemps(dir); err != nil {
		return nil, nil, err
	}
	s := &logStore{dir: dir, log: logger}
	snapshotPath := filepath.Join(dir, snapshotName)
	_, logErr := os.Stat(s.path())
	_, snapErr := os.Stat(snapshotPath)
	switch {
	case logErr == nil:
		st, header, lines, err := s.replay()
		if err != nil {
			return nil, nil, err
		}
		if snapErr == nil {
			if err := s.finishMigration(header); err != nil {
				return nil, nil, err
			}
		}
		if lines > compactedLines(st)+compactSlack {
			logger.Info("rewriting the log without replaced lines", "path", s.path(), "lines", lines, "needed", compactedLines(st))
			return s, st, s.rewrite(st, "")
		}
		if header == nil { // the whole log was one torn line
			return s, st, s.rewrite(st, "")
		}
		return s, st, s.openForAppend()
	case !errors.Is(logErr, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("stat %s: %w", s.path(), logErr)
	case snapErr == nil:
		st, sum, err := loadSnapshot(snapshotPath)
		if err != nil {
			return nil, nil, err
		}
		if err := s.rewrite(st, sum); err != nil {
			return nil, nil, err
		}
		if err := retireSnapshot(dir); err != nil {
			return nil, nil, err
		}
		logger.Info("migrated the snapshot to a log", "from", snapshotPath, "to", s.path(),
			"kept_as", snapshotPath+".migrated", "schemas", len(st.schemas), "subjects", len(st.subjects))
		return s, st, nil
	case !errors.Is(snapErr, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("stat %s: %w", snapshotPath, snapErr)
	default:
		st := newState()
		return s, st, s.rewrite(st, "")
	}
}

// removeStaleTemps removes temp files left by a rewrite (or an older
// version's snapshot write) that crashed before its rename.
func removeStaleTemps(dir string) error {
	for _, pattern := range []string{logName + ".*.tmp", snapshotName + ".*.tmp"} {
		stale, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return fmt.Errorf("list temp files: %w", err)
		}
		for _, name := range stale {
			if err := os.Remove(name); err != nil {
				return fmt.Errorf("remove stale temp file: %w", err)
			}
		}
	}
	return nil
}

// finishMigration handles a start that finds both the log and a snapshot.
// A crash between writing the log from the snapshot and moving the
// snapshot aside leaves exactly that: then the snapshot is the one the log
// records the digest of, and it is moved aside now. Any other snapshot was
// written after the log (by an older version run on the same directory),
// and which of the two to keep is the operator's call.
func (s *logStore) finishMigration(header *change) error {
	snapshotPath := filepath.Join(s.dir, snapshotName)
	sum, err := fileSHA256(snapshotPath)
	if err != nil {
		return err
	}
	if header == nil || header.SnapshotSHA256 != sum {
		return fmt.Errorf("both %s and %s exist, and the snapshot is not the one the log was made from "+
			"(was an older version run on this directory?): move aside the one not to keep", s.path(), snapshotPath)
	}
	return retireSnapshot(s.dir)
}

// retireSnapshot moves a migrated snapshot aside, kept for a rollback to
// an older version.
func retireSnapshot(dir string) error {
	from := filepath.Join(dir, snapshotName)
	if err := os.Rename(from, from+".migrated"); err != nil {
		return fmt.Errorf("move the migrated snapshot aside: %w", err)
	}
	return syncDir(dir)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// replay rebuilds the state from the log, cutting off a torn last line. It
// returns the header (nil when the log held none) and the number of lines
// kept.
func (s *logStore) replay() (*state, *change, int, error) {
	f, err := os.Open(s.path())
	if err != nil {
		return nil, nil, 0, fmt.Errorf("open %s: %w", s.path(), err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	st := newState()
	var header *change
	var offset int64
	lineNo := 0
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("read %s: %w", s.path(), err)
		}
		if line.n == 0 {
			return st, header, lineNo, nil
		}
		lineNo++
		c, bad := decodeLine(line)
		if bad == nil {
			bad = s.replayOne(st, c, &header, lineNo)
		}
		if bad != nil {
			_, peekErr := br.Peek(1)
			last := errors.Is(peekErr, io.EOF)
			if !last || errors.Is(bad, errBadChange) {
				return nil, nil, 0, fmt.Errorf("%s line %d (byte offset %d): %w", s.path(), lineNo, offset, bad)
			}
			if err := s.cutTornTail(offset, line.n, lineNo, bad); err != nil {
				return nil, nil, 0, err
			}
			return st, header, lineNo - 1, nil
		}
		offset += int64(line.n)
	}
}

// replayOne applies one decoded line.
func (s *logStore) replayOne(st *state, c *change, header **change, lineNo int) error {
	switch {
	case lineNo == 1 && c.Op != opHeader:
		return fmt.Errorf("%w: the first line is not a header", errBadChange)
	case lineNo == 1 && c.Format != logFormat:
		return fmt.Errorf("%w: unsupported log format %d (want %d)", errBadChange, c.Format, logFormat)
	case lineNo == 1:
		*header = c
		st.nextID = max(st.nextID, c.NextID)
		return nil
	case c.Op == opHeader:
		return fmt.Errorf("%w: a header after the first line", errBadChange)
	}
	return st.apply(c)
}

// cutTornTail truncates the log at offset, dropping its torn last line.
func (s *logStore) cutTornTail(offset int64, n, lineNo int, why error) error {
	s.log.Warn("cutting off a torn last line, left by a crash during a write that was never acknowledged",
		"path", s.path(), "line", lineNo, "offset", offset, "bytes", n, "reason", why.Error())
	f, err := os.OpenFile(s.path(), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s to cut its torn tail: %w", s.path(), err)
	}
	defer f.Close()
	if err := f.Truncate(offset); err != nil {
		return fmt.Errorf("cut the torn tail of %s at byte %d: %w", s.path(), offset, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.path(), err)
	}
	return nil
}

// rawLine is one line as read: at most maxLineBytes of it kept.
type rawLine struct {
	data     []byte
	n        int  // its length in the file
	complete bool // ends with '\n'
	tooLong  bool // longer than maxLineBytes; data is nil
}

// readLine reads up to and including the next '\n', or to the end of the
// file. A zero n means the end of the file.
func readLine(br *bufio.Reader) (rawLine, error) {
	var l rawLine
	for {
		chunk, err := br.ReadSlice('\n')
		l.n += len(chunk)
		if !l.tooLong && l.n <= maxLineBytes {
			l.data = append(l.data, chunk...)
		} else {
			l.tooLong, l.data = true, nil
		}
		switch {
		case err == nil:
			l.complete = true
			return l, nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return l, nil
		default:
			return rawLine{}, err
		}
	}
}

// errBadLine marks a line that is not a well-formed, intact change.
var errBadLine = errors.New("damaged line")

// decodeLine checks a line's form and checksum and decodes its change.
func decodeLine(l rawLine) (*change, error) {
	switch {
	case l.tooLong:
		return nil, fmt.Errorf("%w: longer than %d bytes", errBadLine, maxLineBytes)
	case !l.complete:
		return nil, fmt.Errorf("%w: no end of line", errBadLine)
	case len(l.data) < 10 || l.data[8] != ' ':
		return nil, fmt.Errorf("%w: no checksum", errBadLine)
	}
	want, err := strconv.ParseUint(string(l.data[:8]), 16, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: no checksum", errBadLine)
	}
	body := l.data[9 : len(l.data)-1]
	if got := crc32.Checksum(body, crcTable); got != uint32(want) {
		return nil, fmt.Errorf("%w: checksum %08x, want %08x", errBadLine, got, want)
	}
	var c change
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadLine, err)
	}
	return &c, nil
}

// encodeLine renders c as one log line. It allocates about the size of
// c's schema, the only large field.
func encodeLine(c *change) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(c.Schema) + 256)
	buf.WriteString("00000000 ")
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil { // Encode ends the line
		return nil, fmt.Errorf("encode %s change: %w", c.Op, err)
	}
	line := buf.Bytes()
	if len(line) > maxLineBytes {
		return nil, fmt.Errorf("%s change of %d bytes is over the log's line limit of %d", c.Op, len(line), maxLineBytes)
	}
	sum := crc32.Checksum(line[9:len(line)-1], crcTable)
	copy(line, fmt.Sprintf("%08x", sum))
	return line, nil
}

// append makes c durable. published is the state before c, which the log
// is rewritten from first if it cannot be appended to as it is.
func (s *logStore) append(c *change, published *state) error {
	if err := s.checkFile(published); err != nil {
		return err
	}
	line, err := encodeLine(c)
	if err != nil {
		return err
	}
	if _, err := s.f.Write(line); err != nil {
		s.rollback()
		return fmt.Errorf("append to %s: %w", s.path(), err)
	}
	if err := s.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the pages: what
		// the file holds is unknown, so it is rewritten before the next
		// append whatever the truncation does.
		s.rollback()
		s.broken = true
		return fmt.Errorf("sync %s: %w", s.path(), err)
	}
	s.size += int64(len(line))
	return nil
}

// checkFile rewrites the log from published when the last append failed
// or the file is no longer the one open (removed, or replaced by hand).
func (s *logStore) checkFile(published *state) error {
	if s.broken || s.f == nil {
		return s.rewrite(published, "")
	}
	onDisk, err := os.Stat(s.path())
	if err == nil && os.SameFile(onDisk, s.info) {
		return nil
	}
	s.log.Warn("the log is missing or was replaced; rewriting it from memory", "path", s.path(), "stat_error", err)
	return s.rewrite(published, "")
}

// rollback cuts a failed append's partial line off the log. If it cannot,
// the next append rewrites the log first.
func (s *logStore) rollback() {
	if err := s.f.Truncate(s.size); err != nil {
		s.broken = true
	}
}

// rewrite replaces the log with one holding st, written change by change
// so that it takes no more memory than the largest schema, and opens it
// for appending. snapshotSum, when set, is recorded in the header (see
// finishMigration).
func (s *logStore) rewrite(st *state, snapshotSum string) error {
	s.broken = true // until the new file is in place and open
	tmp, err := os.CreateTemp(s.dir, logName+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temp log: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	err = eachChange(st, snapshotSum, func(c *change) error {
		line, err := encodeLine(c)
		if err == nil {
			_, err = bw.Write(line)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("write temp log: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write temp log: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync temp log: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp log: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path()); err != nil {
		return fmt.Errorf("replace log: %w", err)
	}
	committed = true
	if err := syncDir(s.dir); err != nil {
		return err
	}
	return s.openForAppend()
}

// openForAppend (re)opens the log for appending after a replay or rewrite.
func (s *logStore) openForAppend() error {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	f, err := os.OpenFile(s.path(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.path(), err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", s.path(), err)
	}
	s.f, s.info, s.size, s.broken = f, info, info.Size(), false
	return nil
}

func (s *logStore) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", s.path(), err)
	}
	return nil
}

// eachChange calls fn with the changes that rebuild st, header first.
func eachChange(st *state, snapshotSum string, fn func(*change) error) error {
	if err := fn(&change{Op: opHeader, Format: logFormat, NextID: st.nextID, SnapshotSHA256: snapshotSum}); err != nil {
		return err
	}
	// Each id's text goes out once, with the first version using it, or
	// on its own when no version does.
	written := make(map[int]bool, len(st.schemas))
	used := make(map[int]bool, len(st.schemas))
	for _, sub := range st.subjects {
		for _, v := range sub.versions {
			used[v.id] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(st.schemas)) {
		if !used[id] {
			if err := fn(&change{Op: opSchema, ID: id, Schema: st.schemas[id].text}); err != nil {
				return err
			}
			written[id] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(st.subjects)) {
		sub := st.subjects[name]
		for _, v := range sub.versions {
			c := &change{Op: opVersion, Subject: name, Version: v.version, ID: v.id, Deleted: v.deleted}
			if !written[v.id] {
				c.Schema, written[v.id] = st.schemas[v.id].text, true
			}
			if err := fn(c); err != nil {
				return err
			}
		}
		if sub.compatibility != "" {
			if err := fn(&change{Op: opLevel, Subject: name, Level: sub.compatibility}); err != nil {
				return err
			}
		}
	}
	if st.global != "" {
		return fn(&change{Op: opGlobalLevel, Level: st.global})
	}
	return nil
}

// compactedLines is how many lines a freshly written log of st has.
func compactedLines(st *state) int {
	n := 0
	_ = eachChange(st, "", func(c *change) error {
		n++
		return nil
	})
	return n
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
