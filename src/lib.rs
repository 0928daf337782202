//! recon reconciles two copies of a dataset: it proves that they agree, or shows exactly
//! where and how they don't, and computes a reconciliation accuracy that a migration can
//! use as its rollback criterion.
//!
//! ```text
//!  source ─┐
//!          ├─ scan ─> normalize ─> digest ─> partition ─> compare ─> drill down ─> metrics ─> report
//!  target ─┘  (Arrow    (canonical   (key hash,  (by key     (join per   (refetch    (accuracy,  (terminal, JSON,
//!             batches)   values)      row hash)   hash)       partition)  changed)    criteria,   diffs, HTML,
//!                                                                                     verdict)    owners)
//! ```
//!
//! Each stage is one module: [`source`], [`normalize`], [`digest`], [`partition`],
//! [`compare`], [`drilldown`], [`metrics`], [`report`]; [`config`] reads job files and builds jobs,
//! [`job`] runs the stages in order, [`error`] is the one error type and [`cli`] is the
//! command line.
#![deny(missing_docs)]

pub mod cli;
pub mod compare;
pub mod config;
pub mod digest;
pub mod drilldown;
pub mod error;
pub mod history;
pub mod job;
pub mod metrics;
pub mod normalize;
pub mod partition;
pub mod report;
pub mod source;
pub mod suite;

pub use error::{Error, Result, Side};
pub use job::{EngineOptions, Job, Outcome};
pub use metrics::Status;
