package registry

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/riferrei/srclient"
)

// callAuth sends a body-less request with basic auth credentials.
func callAuth(t *testing.T, srv *httptest.Server, auth BasicAuth, method, path string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth.User != "" || auth.Password != "" {
		req.SetBasicAuth(auth.User, auth.Password)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}
}

func TestBasicAuthRequiredWhenConfigured(t *testing.T) {
	want := BasicAuth{User: "reader", Password: "pw"}
	srv, _ := newServer(t, Config{BasicAuth: want})
	tests := []struct {
		name       string
		auth       BasicAuth
		path       string
		wantStatus int
	}{
		{"no credentials", BasicAuth{}, "/subjects", 401},
		{"wrong password", BasicAuth{User: "reader", Password: "pX"}, "/subjects", 401},
		{"wrong user", BasicAuth{User: "writer", Password: "pw"}, "/subjects", 401},
		{"password prefix", BasicAuth{User: "reader", Password: "p"}, "/subjects", 401},
		{"no credentials on an unknown route", BasicAuth{}, "/nope", 401},
		{"right credentials", want, "/subjects", 200},
		{"right credentials, unknown route", want, "/nope", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := callAuth(t, srv, tt.auth, "GET", tt.path)
			if resp.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.status, tt.wantStatus, resp.body)
			}
			if tt.wantStatus == 401 {
				if code := errorCode(t, resp); code != codeUnauthorized {
					t.Errorf("error_code %d, want 401", code)
				}
			}
		})
	}
}

func TestBasicAuthChallenge(t *testing.T) {
	srv, _ := newServer(t, Config{BasicAuth: BasicAuth{User: "u", Password: "p"}})
	resp, err := srv.Client().Get(srv.URL + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("WWW-Authenticate"); got == "" {
		t.Errorf("401 without a WWW-Authenticate challenge")
	}
}

func TestBasicAuthWithSrclient(t *testing.T) {
	auth := BasicAuth{User: "scorer", Password: "pw"}
	srv, _ := newServer(t, Config{BasicAuth: auth})

	anonymous := srclient.NewSchemaRegistryClient(srv.URL)
	_, err := anonymous.CreateSchema("s", `"string"`, srclient.Avro)
	var srErr srclient.Error
	if !errors.As(err, &srErr) || srErr.Code != codeUnauthorized {
		t.Fatalf("CreateSchema without credentials: %v, want srclient.Error 401", err)
	}

	client := srclient.NewSchemaRegistryClient(srv.URL)
	client.SetCredentials(auth.User, auth.Password)
	schema, err := client.CreateSchema("s", `"string"`, srclient.Avro)
	if err != nil || schema.ID() != 1 {
		t.Fatalf("CreateSchema with credentials: %v, %v", idOf(schema), err)
	}
}
