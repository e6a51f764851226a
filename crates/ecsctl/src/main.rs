//! `ecsctl`: the command line (clap definitions) and the dispatch to each command.

mod client;
mod commands;
mod error;
mod output;
mod progress;

use clap::{Args, CommandFactory, Parser, Subcommand};
use client::{Client, Credentials};
use error::{exit, Error};
use output::Format;
use std::path::PathBuf;
use std::time::Duration;

/// A command-line client for ecsd and other Huawei Cloud ECS-compatible endpoints.
///
/// Requests are signed like the official SDKs' (SDK-HMAC-SHA256), with the credentials the SDKs
/// read from the environment. Exit codes: 0 done, 1 the API refused (4xx) or nothing matched a
/// name, 2 usage error, 3 a waited-for job ended FAIL, 4 service unreachable or 5xx, 5 timed out
/// waiting.
#[derive(Parser, Debug)]
#[command(name = "ecsctl", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Global options")]
struct Global {
    /// The service's base URL.
    #[arg(long, global = true, env = "ECSD_ENDPOINT", default_value = "http://127.0.0.1:8080")]
    endpoint: String,
    /// Access key.
    #[arg(long, global = true, env = "HUAWEICLOUD_SDK_AK", hide_env_values = true)]
    ak: Option<String>,
    /// Secret key.
    #[arg(long, global = true, env = "HUAWEICLOUD_SDK_SK", hide_env_values = true)]
    sk: Option<String>,
    /// Project id.
    #[arg(long, global = true, env = "HUAWEICLOUD_SDK_PROJECT_ID")]
    project: Option<String>,
    /// Accept any TLS certificate (ecsd's generated one is self-signed).
    #[arg(long, global = true)]
    insecure: bool,
    /// `table` for people, `json` for scripts (the API's own JSON).
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Seconds `--wait` and `jobs watch` wait for a job before giving up (exit 5).
    #[arg(long, global = true, default_value_t = 600)]
    timeout: u64,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Servers: list, show, create, delete, power, lock, reinstall, change OS.
    #[command(subcommand)]
    Servers(ServersCmd),
    /// Jobs: show one, its saga's steps, or follow it to its end.
    #[command(subcommand)]
    Jobs(JobsCmd),
    /// SSH key pairs.
    #[command(subcommand, name = "keypairs", alias = "keypair")]
    Keypairs(KeypairsCmd),
    /// Images.
    #[command(subcommand)]
    Images(ImagesCmd),
    /// Flavors.
    #[command(subcommand)]
    Flavors(FlavorsCmd),
    /// Any signed request: prints the answer's JSON (for what no verb covers).
    Api {
        /// GET, POST, PUT, DELETE...
        method: String,
        /// The path and query; `{p}` stands for the project id.
        path: String,
        /// A JSON body, or `@FILE` to read it from a file.
        #[arg(long)]
        data: Option<String>,
    },
    /// Prints a shell completion script: `source <(ecsctl completion bash)`.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Waiting for the job a long operation started.
#[derive(Args, Debug, Clone, Copy)]
pub struct Wait {
    /// Follow the job to its end, step by step, and exit with its result.
    #[arg(long)]
    pub wait: bool,
}

/// How a server is logged into after a create, reinstall or change OS.
#[derive(Args, Debug, Clone)]
#[group(multiple = false)]
pub struct Login {
    /// The key pair to inject.
    #[arg(long)]
    pub key_name: Option<String>,
    /// The administrator password to set instead.
    #[arg(long)]
    pub admin_pass: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ServersCmd {
    /// Lists the project's servers (up to 1000).
    List {
        /// Only servers whose name contains this.
        #[arg(long)]
        name: Option<String>,
        /// Only servers in this status (ACTIVE, SHUTOFF, ...).
        #[arg(long)]
        status: Option<String>,
    },
    /// Shows one server.
    Show {
        /// Server id, or a name only it has (as everywhere a server is named).
        server: String,
    },
    /// Creates servers (pay-per-use) on the project's default VPC and subnet.
    Create {
        #[arg(long)]
        name: String,
        /// Image id or name.
        #[arg(long)]
        image: String,
        /// Flavor id; the smallest one by default.
        #[arg(long)]
        flavor: Option<String>,
        #[command(flatten)]
        login: Login,
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// A file handed to the server as user data (Cloud-Init).
        #[arg(long, value_name = "FILE")]
        user_data: Option<PathBuf>,
        /// VPC id; the project's first VPC by default.
        #[arg(long)]
        vpc: Option<String>,
        /// Subnet id; the VPC's first subnet by default.
        #[arg(long)]
        subnet: Option<String>,
        /// System disk type.
        #[arg(long, default_value = "SSD")]
        volume_type: String,
        #[command(flatten)]
        wait: Wait,
    },
    /// Deletes servers.
    Delete {
        #[arg(required = true)]
        servers: Vec<String>,
        /// Delete their data disks too (the system disk always goes).
        #[arg(long)]
        delete_volumes: bool,
        #[command(flatten)]
        wait: Wait,
    },
    /// Starts servers.
    Start {
        #[arg(required = true)]
        servers: Vec<String>,
        #[command(flatten)]
        wait: Wait,
    },
    /// Stops servers.
    Stop {
        #[arg(required = true)]
        servers: Vec<String>,
        /// A hard stop (power off) instead of a soft one.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        wait: Wait,
    },
    /// Reboots servers.
    Reboot {
        #[arg(required = true)]
        servers: Vec<String>,
        /// A hard reboot (reset) instead of a soft one.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        wait: Wait,
    },
    /// Locks a server against changes.
    Lock { server: String },
    /// Unlocks a server.
    Unlock { server: String },
    /// Reinstalls a server's OS from its own image, on a new system disk.
    Reinstall {
        server: String,
        #[command(flatten)]
        os: OsArgs,
    },
    /// Changes a server's OS to another image, on a new system disk.
    ChangeOs {
        server: String,
        /// Image id or name.
        #[arg(long)]
        image: String,
        #[command(flatten)]
        os: OsArgs,
    },
}

/// What reinstall and change OS share.
#[derive(Args, Debug, Clone)]
pub struct OsArgs {
    #[command(flatten)]
    pub login: Login,
    /// A file handed to the new OS as user data (needs an image with Cloud-Init).
    #[arg(long, value_name = "FILE")]
    pub user_data: Option<PathBuf>,
    /// Do not stop a running server first (the API then refuses one that runs).
    #[arg(long)]
    pub no_stop: bool,
    #[command(flatten)]
    pub wait: Wait,
}

#[derive(Subcommand, Debug)]
pub enum JobsCmd {
    /// Shows a job as the job API answers it.
    Show { job: String },
    /// Shows each step of a job's saga (and of its sub-jobs).
    Steps { job: String },
    /// Follows a job to its end, step by step, and exits with its result.
    Watch { job: String },
}

#[derive(Subcommand, Debug)]
pub enum KeypairsCmd {
    List,
    Show {
        name: String,
    },
    /// Generates a key pair; its private key is shown once.
    Create {
        name: String,
        /// Write the private key to this new file (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        private_key_file: Option<PathBuf>,
    },
    /// Imports a public key.
    Import {
        name: String,
        /// An OpenSSH public key file (`~/.ssh/id_ed25519.pub`).
        #[arg(long, value_name = "FILE")]
        public_key_file: PathBuf,
    },
    Delete {
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImagesCmd {
    List {
        /// Only the image with this name.
        #[arg(long)]
        name: Option<String>,
        /// Only images of this platform (Ubuntu, CentOS, Windows...).
        #[arg(long)]
        platform: Option<String>,
    },
    /// Shows one image (by id or name).
    Show { image: String },
}

#[derive(Subcommand, Debug)]
pub enum FlavorsCmd {
    List,
}

/// What every command gets: the client, the output format and how long to wait.
pub struct Ctx {
    pub client: Client,
    pub format: Format,
    pub timeout: Duration,
}

fn main() {
    let cli = Cli::parse();
    if let Command::Completion { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "ecsctl", &mut std::io::stdout());
        return;
    }
    let code = match run(cli) {
        Ok(()) => exit::OK,
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<(), Error> {
    let g = cli.global;
    let creds = Credentials {
        endpoint: g.endpoint,
        ak: g.ak.unwrap_or_default(),
        sk: g.sk.unwrap_or_default(),
        project: g.project.unwrap_or_default(),
        insecure: g.insecure,
    };
    let ctx = Ctx { client: Client::new(&creds)?, format: g.output, timeout: Duration::from_secs(g.timeout) };
    // One thread is plenty for one request at a time, and the progress bar ticks on its own.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Error::Other(e.into()))?;
    rt.block_on(async {
        match cli.command {
            Command::Servers(c) => commands::servers::run(&ctx, c).await,
            Command::Jobs(c) => commands::jobs::run(&ctx, c).await,
            Command::Keypairs(c) => commands::keypairs::run(&ctx, c).await,
            Command::Images(c) => commands::images::run(&ctx, c).await,
            Command::Flavors(c) => commands::flavors::run(&ctx, c).await,
            Command::Api { method, path, data } => commands::api::run(&ctx, &method, &path, data.as_deref()).await,
            Command::Completion { .. } => Ok(()),
        }
    })
}

/// The error on stderr: the Huawei code and message of a refusal, a failed job's code and
/// reason.
fn report(e: &Error) {
    eprintln!("ecsctl: {e}");
}
