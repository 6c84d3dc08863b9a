//! slaacd-bench: measurements of slaacd beside its peers, on this machine,
//! in network namespaces it creates and removes. It prints a markdown report;
//! figures live there, never in test assertions.

mod convergence;
mod observe;
mod stats;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "slaacd-bench", version, about)]
struct Args {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Time from carrier-up to address and default route: slaacd against the
    /// Linux kernel's own SLAAC, against the same radvd.
    Convergence {
        /// Runs per client.
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.bench {
        Bench::Convergence { runs } => convergence::measure(runs).map(|results| {
            println!("# Convergence after carrier-up ({runs} runs each)\n");
            println!("{}", machine());
            print!("{}", convergence::report(&results, runs));
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("slaacd-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// One line about the machine the figures come from.
fn machine() -> String {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    format!(
        "Machine: Linux {}, {cpus} CPUs; router: radvd; link: veth.\n",
        kernel.trim()
    )
}
