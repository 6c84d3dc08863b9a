//! slaacd-bench: measurements of slaacd beside its peers, on this machine,
//! in network namespaces it creates and removes. It prints markdown tables
//! and writes them, with a description of the machine, to a report file;
//! figures live there, never in test assertions.

mod bridge_lab;
mod contender;
mod convergence;
mod dhcpcd;
mod footprint;
mod latency;
mod machine;
mod memory;
mod observe;
mod stats;
mod throughput;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args as ClapArgs, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "slaacd-bench", version, about)]
struct Args {
    /// Where the markdown report goes.
    #[arg(long, global = true, default_value = "target/slaacd-bench-report.md")]
    report: PathBuf,
    #[command(subcommand)]
    bench: Bench,
}

#[derive(ClapArgs, Clone, Copy)]
struct ConvergenceArgs {
    /// Runs per client.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Leave out the runs of slaacd with its fast-path settings changed.
    #[arg(long)]
    without_steps: bool,
}

#[derive(ClapArgs, Clone, Copy)]
struct ThroughputArgs {
    /// RAs offered to each client.
    #[arg(long, default_value_t = 10_000)]
    ras: usize,
    /// RAs for the RA-to-kernel latency, one at a time.
    #[arg(long, default_value_t = 1_000)]
    latency_ras: usize,
}

#[derive(ClapArgs, Clone, Copy)]
struct FootprintArgs {
    /// Seconds of idleness over which CPU time and wake-ups are measured.
    #[arg(long, default_value_t = 60)]
    idle_seconds: u64,
    /// Leave out the RA flood after the idle period (it fills the
    /// machine-wide IPv6 neighbour table while others run tests).
    #[arg(long)]
    without_flood: bool,
}

#[derive(Subcommand)]
enum Bench {
    /// Time from carrier-up to address present, usable, past DAD, and
    /// default route: slaacd against dhcpcd and the Linux kernel's own
    /// SLAAC, against the same radvd across a bridge.
    Convergence(ConvergenceArgs),
    /// RAs per second through slaacd's pipeline, CPU time per 10,000 RAs
    /// (slaacd against dhcpcd on the same crafted traffic), and slaacd's
    /// RA-to-kernel latency.
    Throughput(ThroughputArgs),
    /// Resident memory idle and after an RA flood, and idle CPU time and
    /// wake-ups, slaacd against dhcpcd.
    Footprint(FootprintArgs),
    /// All three, into one report.
    All {
        #[command(flatten)]
        convergence: ConvergenceArgs,
        #[command(flatten)]
        throughput: ThroughputArgs,
        #[command(flatten)]
        footprint: FootprintArgs,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let load_at_start = machine::load_average();
    let sections = match args.bench {
        Bench::Convergence(convergence) => convergence_section(convergence).map(|s| vec![s]),
        Bench::Throughput(throughput) => throughput_section(throughput).map(|s| vec![s]),
        Bench::Footprint(footprint) => footprint_section(footprint).map(|s| vec![s]),
        Bench::All {
            convergence,
            throughput,
            footprint,
        } => (|| {
            Ok(vec![
                convergence_section(convergence)?,
                throughput_section(throughput)?,
                footprint_section(footprint)?,
            ])
        })(),
    };
    match sections.and_then(|sections| write_report(&args.report, &load_at_start, &sections)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("slaacd-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a section as soon as it is measured, and returns it.
fn section(text: String) -> String {
    println!("{text}");
    text
}

fn convergence_section(args: ConvergenceArgs) -> anyhow::Result<String> {
    let runs = args.runs;
    let results = convergence::measure(runs, !args.without_steps)?;
    Ok(section(format!(
        "## Convergence after carrier-up ({runs} runs each)\n\n\
         radvd in a router namespace and the host in another, joined through a bridge \
         (STP and multicast snooping off); time 0 is the request that gives the host's \
         veth carrier. Usable: the address can be a source (optimistic or DAD done); \
         the kernel's SLAAC and dhcpcd become usable only when DAD is done.\n\n{}",
        convergence::report(&results, runs)
    )))
}

fn throughput_section(args: ThroughputArgs) -> anyhow::Result<String> {
    let results = throughput::measure(args.ras)?;
    let latency = latency::measure(args.latency_ras)?;
    Ok(section(format!(
        "## Pipeline throughput and cost ({} RAs each)\n\n\
         Crafted RAs from a packet socket in the router namespace, 4 routers.\n\n{}\n\
         ### RA-to-kernel latency (slaacd)\n\n{}",
        args.ras,
        throughput::report(&results),
        latency::report(&latency)
    )))
}

fn footprint_section(args: FootprintArgs) -> anyhow::Result<String> {
    let results = footprint::measure(Duration::from_secs(args.idle_seconds), !args.without_flood)?;
    let flood = if args.without_flood {
        "no flood after it"
    } else {
        "then a flood of crafted RAs from random routers"
    };
    Ok(section(format!(
        "## Footprint\n\nradvd (an unsolicited RA every 3-10 s, during the idle period too), \
         {flood}. Memory of all the client's processes together: RSS counts a page shared by \
         several processes (libc, one executable) in each, PSS divides it among them (libc's share \
         also shrinks as other processes on the machine map it); \
         anonymous is what no file backs (heap, stacks, relocated data). Wake-ups: voluntary \
         context switches of all the client's threads.\n\n{}",
        footprint::report(&results)
    )))
}

/// Writes the report: a title, the machine, then the sections.
fn write_report(path: &Path, load_at_start: &str, sections: &[String]) -> anyhow::Result<()> {
    let mut text = format!(
        "# slaacd-bench report\n\n## Machine\n\n{}\n",
        machine::describe(load_at_start)
    );
    for section in sections {
        text.push_str(section);
        text.push('\n');
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("slaacd-bench: report written to {}", path.display());
    Ok(())
}
