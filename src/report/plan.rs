//! The resolved plan as text (`recon explain`): every compared column pair with both
//! sides' types, the comparison type, normalizers and tolerance, and what is left out.

use std::io::Write;

use crate::job::Job;
use crate::normalize::{ColumnPair, Plan};

/// Writes the plan of `job` for a person.
pub fn write_plan(job: &Job, plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "recon plan  {}  →  {}",
        plan.locations[0], plan.locations[1]
    )?;
    writeln!(out)?;
    writeln!(out, "key:")?;
    for pair in &plan.keys {
        write_pair(pair, out)?;
    }
    writeln!(out)?;
    writeln!(out, "compared columns ({}):", plan.columns.len())?;
    for pair in &plan.columns {
        write_pair(pair, out)?;
    }
    let list = super::name_list;
    writeln!(out)?;
    writeln!(out, "not compared:")?;
    writeln!(out, "  only in source:  {}", list(&plan.only_in_source))?;
    writeln!(out, "  only in target:  {}", list(&plan.only_in_target))?;
    writeln!(out, "  excluded:        {}", list(&plan.excluded))?;
    if let Some(min) = job.criteria.min_accuracy {
        writeln!(out)?;
        writeln!(out, "criteria: accuracy at least {}%", min.value())?;
    }
    Ok(())
}

fn write_pair(pair: &ColumnPair, out: &mut dyn Write) -> std::io::Result<()> {
    let name = if pair.source == pair.target {
        pair.source.clone()
    } else {
        format!("{} → {}", pair.source, pair.target)
    };
    writeln!(
        out,
        "  {name}: {} vs {}, compared as {}",
        pair.source_type, pair.target_type, pair.compare_as
    )?;
    if let Some(declared) = &pair.declared_type {
        writeln!(out, "      declared type: {declared}")?;
    }
    for (side, steps) in [
        ("source", &pair.normalizers.source),
        ("target", &pair.normalizers.target),
    ] {
        if !steps.is_empty() {
            writeln!(out, "      {side} normalizers: {}", steps.join(" → "))?;
        }
    }
    if let Some(t) = &pair.tolerance {
        writeln!(out, "      tolerance: {t}")?;
    }
    for note in &pair.notes {
        writeln!(out, "      note: {note}")?;
    }
    Ok(())
}
