//! slaacd-bench: measurements of slaacd beside its peers, on this machine,
//! in network namespaces it creates and removes. It prints a markdown report;
//! figures live there, never in test assertions.

mod contender;
mod convergence;
mod dhcpcd;
mod footprint;
mod observe;
mod stats;
mod throughput;

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
    /// Time from carrier-up to address and default route: slaacd against
    /// dhcpcd and the Linux kernel's own SLAAC, against the same radvd.
    Convergence {
        /// Runs per client.
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
    /// RAs per second through slaacd's pipeline and CPU time per 10,000 RAs,
    /// slaacd against dhcpcd on the same crafted traffic.
    Throughput {
        /// RAs offered to each client.
        #[arg(long, default_value_t = 10_000)]
        ras: usize,
    },
    /// Resident memory idle and after an RA flood, and idle CPU time,
    /// slaacd against dhcpcd.
    Footprint {
        /// Seconds of idleness over which CPU time is measured.
        #[arg(long, default_value_t = 60)]
        idle_seconds: u64,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.bench {
        Bench::Convergence { runs } => convergence::measure(runs).map(|results| {
            println!("# Convergence after carrier-up ({runs} runs each)\n");
            println!("{}", machine("radvd"));
            print!("{}", convergence::report(&results, runs));
        }),
        Bench::Throughput { ras } => throughput::measure(ras).map(|results| {
            println!("# Pipeline throughput and cost ({ras} RAs each)\n");
            println!("{}", machine("crafted RAs from a packet socket, 4 routers"));
            print!("{}", throughput::report(&results));
        }),
        Bench::Footprint { idle_seconds } => {
            footprint::measure(std::time::Duration::from_secs(idle_seconds)).map(|results| {
                println!("# Footprint\n");
                println!(
                    "{}",
                    machine("radvd, then a flood of crafted RAs from random routers")
                );
                print!("{}", footprint::report(&results));
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("slaacd-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// One line about the machine the figures come from and the router used.
fn machine(router: &str) -> String {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    format!(
        "Machine: Linux {}, {cpus} CPUs; router: {router}; link: veth; binaries: {}.\n",
        kernel.trim(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    )
}
