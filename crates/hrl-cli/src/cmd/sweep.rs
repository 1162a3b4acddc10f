//! `hrl sweep`: run a grid of training runs on this machine or as a Slurm array job, and show
//! where it stands.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hrl_exp::sweep::archive;
use hrl_exp::sweep::local::{LocalOptions, run_local};
use hrl_exp::sweep::run::{RunOutcome, RunnerOptions, run_one};
use hrl_exp::sweep::slurm::{SlurmOptions, submit, write_script};
use hrl_exp::sweep::status::{render_status, sweep_status};
use hrl_exp::sweep::{DEFAULT_ROOT, Sweep};
use hrl_exp::train::config::MAX_THREADS;

/// Arguments of `hrl sweep`.
#[derive(Args)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: SweepCommand,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Run the sweep's runs here, J at a time; complete runs are skipped, started ones resumed.
    Run(RunArgs),
    /// Show each run's state, progress and last return.
    Status(StatusArgs),
    /// Write (and with --submit, submit) a Slurm array job with one task per run.
    Slurm(SlurmArgs),
    /// Run, resume or skip one run of the sweep (what each Slurm array task does).
    RunOne(RunOneArgs),
}

/// The sweep file and where its folder goes.
#[derive(Args)]
struct SweepLocation {
    /// Sweep file (TOML: name, algos, envs, reprs, seeds, steps, optional [set]).
    file: PathBuf,
    /// Root folder; runs go to ROOT/NAME/RUN_NAME.
    #[arg(long, default_value = DEFAULT_ROOT)]
    out: PathBuf,
}

/// How each run's child process runs.
#[derive(Args)]
struct RunnerArgs {
    /// Worker threads of each run (`hrl train --threads`).
    #[arg(long, default_value_t = 1)]
    threads_per_job: usize,
    /// Attempts after a failed first one, per run.
    #[arg(long, default_value_t = 0)]
    retries: u32,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    location: SweepLocation,
    /// Runs at a time.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    #[command(flatten)]
    runner: RunnerArgs,
    /// The sweep's archive (e.g. results/NAME/runs.tar.gz): its complete runs are unpacked
    /// first and not trained again, and every run that completes is packed into it at once.
    #[arg(long, value_name = "FILE.tar.gz")]
    archive: Option<PathBuf>,
}

#[derive(Args)]
struct StatusArgs {
    #[command(flatten)]
    location: SweepLocation,
}

#[derive(Args)]
struct SlurmArgs {
    #[command(flatten)]
    location: SweepLocation,
    /// Submit the script with sbatch and print the job id.
    #[arg(long)]
    submit: bool,
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// Time limit per task, in Slurm's formats (e.g. 2:00:00).
    #[arg(long)]
    time: Option<String>,
    /// CPUs per task, also each run's worker threads.
    #[arg(long, default_value_t = 1)]
    cpus: usize,
    /// GPUs per task.
    #[arg(long)]
    gpus: Option<u32>,
}

#[derive(Args)]
struct RunOneArgs {
    #[command(flatten)]
    location: SweepLocation,
    /// The run's position in the grid (the Slurm array index), from 0.
    #[arg(long)]
    index: usize,
    #[command(flatten)]
    runner: RunnerArgs,
}

/// Runs `hrl sweep`.
pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    let out = match &args.command {
        SweepCommand::Run(a) => &a.location.out,
        SweepCommand::Status(a) => &a.location.out,
        SweepCommand::Slurm(a) => &a.location.out,
        SweepCommand::RunOne(a) => &a.location.out,
    };
    if out.exists() && !out.is_dir() {
        bail!(
            "--out {} is a file; a sweep's runs go into a folder",
            out.display()
        );
    }
    match args.command {
        SweepCommand::Run(args) => run_here(args),
        SweepCommand::Status(args) => status(args),
        SweepCommand::Slurm(args) => slurm(args),
        SweepCommand::RunOne(args) => run_single(args),
    }
}

fn runner_options(args: &RunnerArgs) -> anyhow::Result<RunnerOptions> {
    if !(1..=MAX_THREADS).contains(&args.threads_per_job) {
        bail!(
            "--threads-per-job must be between 1 and {MAX_THREADS}, got {}",
            args.threads_per_job
        );
    }
    Ok(RunnerOptions {
        hrl: std::env::current_exe().context("locating the hrl binary")?,
        threads: args.threads_per_job,
        retries: args.retries,
    })
}

fn run_here(args: RunArgs) -> anyhow::Result<()> {
    let sweep = Sweep::load(&args.location.file)?;
    if args.jobs == 0 {
        bail!("--jobs must be positive");
    }
    let options = LocalOptions {
        jobs: args.jobs,
        runner: runner_options(&args.runner)?,
        archive: args.archive,
    };
    let root = &args.location.out;
    if let Some(archive) = &options.archive {
        let restored = archive::restore(archive, &sweep.name, &sweep.dir(root))
            .with_context(|| format!("restoring the runs of {}", archive.display()))?;
        tracing::info!(
            "{}: {} runs restored, {} already complete here, {} held by another process, {} incomplete in the archive",
            archive.display(),
            restored.restored.len(),
            restored.already_complete.len(),
            restored.busy.len(),
            restored.incomplete.len()
        );
    }
    tracing::info!(
        "sweep {}: {} runs into {}, {} at a time",
        sweep.name,
        sweep.len(),
        sweep.dir(root).display(),
        options.jobs
    );
    let report = run_local(&sweep, root, &options);
    println!("{}", report.summary_line());
    if let Some(archive) = &options.archive {
        let count = archive::pack(&sweep.dir(root), archive)
            .with_context(|| format!("archiving the runs into {}", archive.display()))?;
        println!("{}: {count} complete runs", archive.display());
    }
    print!("{}", report.failure_table(&sweep.dir(root)));
    if report.any_failed() {
        bail!(
            "some runs of sweep {} failed; `hrl sweep run` again resumes them",
            sweep.name
        );
    }
    Ok(())
}

fn status(args: StatusArgs) -> anyhow::Result<()> {
    let sweep = Sweep::load(&args.location.file)?;
    let rows = sweep_status(&sweep, &args.location.out)?;
    print!("{}", render_status(&rows));
    Ok(())
}

fn slurm(args: SlurmArgs) -> anyhow::Result<()> {
    let sweep = Sweep::load(&args.location.file)?;
    if !(1..=MAX_THREADS).contains(&args.cpus) {
        bail!(
            "--cpus must be between 1 and {MAX_THREADS}, got {}",
            args.cpus
        );
    }
    let absolute = |path: &Path| {
        std::path::absolute(path).with_context(|| format!("making {} absolute", path.display()))
    };
    let options = SlurmOptions {
        hrl: std::env::current_exe().context("locating the hrl binary")?,
        sweep_file: absolute(&args.location.file)?,
        root: absolute(&args.location.out)?,
        partition: args.partition,
        time: args.time,
        cpus: args.cpus,
        gpus: args.gpus,
    };
    let script = write_script(&sweep, &options)?;
    if args.submit {
        let job = submit(&script)?;
        tracing::info!(
            "submitted {} ({} tasks) as job {job}; logs in {}",
            script.display(),
            sweep.len(),
            script.with_file_name("").display()
        );
        println!("{job}");
    } else {
        println!("{}", script.display());
    }
    Ok(())
}

fn run_single(args: RunOneArgs) -> anyhow::Result<()> {
    let sweep = Sweep::load(&args.location.file)?;
    let runs = sweep.runs();
    let Some(run) = runs.get(args.index) else {
        bail!(
            "--index {}: sweep {} has runs 0 to {}",
            args.index,
            sweep.name,
            runs.len() - 1
        );
    };
    let options = runner_options(&args.runner)?;
    let sweep_dir = sweep.dir(&args.location.out);
    let name = run.name();
    match run_one(run, &sweep_dir, &options)? {
        RunOutcome::AlreadyComplete => println!("{name}: already complete"),
        RunOutcome::Busy { holder } => println!("{name}: left alone, {holder} is training it"),
        RunOutcome::Succeeded { attempts, .. } => {
            println!("{name}: complete (attempts: {attempts})")
        }
        RunOutcome::Failed(record) => bail!(
            "{name} failed ({}, attempts: {}); see {}",
            record.describe_exit(),
            record.attempts,
            run.dir(&sweep_dir)
                .join(hrl_exp::sweep::run::LOG_FILE)
                .display()
        ),
    }
    Ok(())
}
