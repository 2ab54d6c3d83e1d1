// Runs the upstream Gateway API v1.6.1 conformance suite (profile GATEWAY-HTTP) against
// gatefleet in the cluster of the current kubeconfig and writes the conformance report.
//
//	go test -v -timeout 60m . -args [-report-output f.yaml] [-usable-address a] [-unusable-address b]
//
// Every upstream flag (-gateway-class, -run-test, -skip-tests, -supported-features, -debug, ...)
// works and wins over the defaults below. Supported features are inferred from the
// GatewayClass's status.supportedFeatures unless features are given with flags.
package conformance_test

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
)

const (
	defaultGatewayClass = "gatefleet"
	defaultReport       = "conformance-report.yaml"
)

func TestGatefleetConformance(t *testing.T) {
	opts := conformance.DefaultOptions(t) // parses the upstream flags and builds the clients

	if !flagSet("gateway-class") {
		opts.GatewayClassName = defaultGatewayClass
	}
	if !flagSet("conformance-profiles") {
		opts.ConformanceProfiles = []suite.ConformanceProfileName{suite.GatewayHTTPConformanceProfileName}
	}
	if !flagSet("report-output") {
		opts.ReportOutputPath = env("GATEFLEET_CONFORMANCE_REPORT", defaultReport)
	}
	impl := &opts.Implementation
	if impl.Organization == "" {
		impl.Organization = env("GATEFLEET_ORGANIZATION", "gatefleet")
	}
	if impl.Project == "" {
		impl.Project = "gatefleet"
	}
	if impl.URL == "" {
		impl.URL = env("GATEFLEET_URL", "https://github.com/gatefleet/gatefleet")
	}
	if impl.Version == "" {
		impl.Version = env("GATEFLEET_VERSION", packageVersion(t))
	}
	if len(impl.Contact) == 0 {
		impl.Contact = strings.Split(env("GATEFLEET_CONTACT", "@gatefleet/maintainers"), ",")
	}

	conformance.RunConformanceWithOptions(t, opts)
}

func flagSet(name string) (set bool) {
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// packageVersion is gatefleet's version from the repository's package.json, as "v<version>".
func packageVersion(t *testing.T) string {
	raw, err := os.ReadFile("../../package.json")
	if err != nil {
		t.Fatalf("reading gatefleet's version (set GATEFLEET_VERSION): %v", err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(raw, &pkg); err != nil || pkg.Version == "" {
		t.Fatalf("no version in package.json (set GATEFLEET_VERSION): %v", err)
	}
	return "v" + pkg.Version
}
