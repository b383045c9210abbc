// Package reports renders a graded run for people and for machines: a
// terminal table with the load summary and the replica path, JSON with a
// schema version, and JUnit XML with one testcase per promise. A Run holds
// everything a renderer shows; renderers only format it, they never grade,
// read a cluster or consult the clock.
package reports
