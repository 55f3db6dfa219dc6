// Package fedtest holds the end-to-end federation tests of issue 8: two
// `thoughts serve` processes federating with each other over loopback
// (TestTwoInstances), and one federating with an independent ActivityPub
// implementation, a small peer built on Fedify (TestFedifyInterop,
// fedify-peer/).
//
// They start real processes (the thoughts binary, built once per run, and
// Node.js), so they run only when THOUGHTS_FEDTEST=1 (`make
// test-federation`); otherwise each test says so and is skipped. The
// package has no non-test code besides this comment.
package fedtest
