//! `lethe import`: streams an NDJSON file into an account with a progress bar.

use crate::args::{Global, ImportArgs};
use crate::serve::open;
use indicatif::{ProgressBar, ProgressStyle};
use lethe_domain::SiteId;
use lethe_service::import::{ImportFailure, ImportReport, Importer};
use std::io::BufRead;
use std::time::Instant;

/// Reads lines from a file or stdin and feeds them to an importer.
pub async fn import(global: &Global, args: ImportArgs) -> anyhow::Result<()> {
    let prepared = open(global).await?;
    let site = SiteId::parse(&args.account)?;
    let batch = args.batch_size.unwrap_or(prepared.state.config.import_batch_size);
    let (reader, total): (Box<dyn BufRead>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file =
            std::fs::File::open(&args.file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", args.file.display()))?;
        let size = file.metadata()?.len();
        (Box::new(std::io::BufReader::with_capacity(1 << 20, file)), Some(size))
    };
    let bar = progress(total, args.quiet);
    let started = Instant::now();
    let mut importer = Importer::new(prepared.state.lethe.clone(), site, batch).await?;
    let report = feed(&mut importer, reader, &bar).await;
    bar.finish_and_clear();
    let report = match report {
        Ok(()) => importer.finish().await,
        Err(e) => return Err(e),
    }
    .map_err(failure)?;
    summarize(&report, started.elapsed().as_secs_f64());
    Ok(())
}

fn failure(f: ImportFailure) -> anyhow::Error {
    anyhow::anyhow!(
        "line {}: {} ({} records committed before it; re-running the same file is safe)",
        f.line,
        f.error,
        f.committed_lines
    )
}

fn progress(total: Option<u64>, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = total.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        )
        .expect("valid template"),
    );
    bar
}

async fn feed(importer: &mut Importer, reader: Box<dyn BufRead>, bar: &ProgressBar) -> anyhow::Result<()> {
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| anyhow::anyhow!("line {}: cannot read: {e}", i + 1))?;
        bar.inc(line.len() as u64 + 1);
        importer.push(i as u64 + 1, &line).await.map_err(failure)?;
    }
    Ok(())
}

fn summarize(report: &ImportReport, seconds: f64) {
    eprintln!(
        "lethe: imported {} records in {} batches in {seconds:.1}s: {} consumers, {} conversations created, {} unchanged, {} messages",
        report.lines, report.batches, report.consumers, report.conversations_created, report.conversations_unchanged, report.messages
    );
}
