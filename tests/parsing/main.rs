//! Parsing without I/O: the shared real-world corpora (`../shared/corpora`)
//! and the fuzz target's regression inputs. One test binary.

mod bounces;
mod corpus;
mod fuzz_regressions;
mod realworld;
