//! `ecsd image build-demo` and `ecsd image import`: adding bootable images to the catalog.
//!
//! An image is a base file under `DATA_DIR/images/<id>/` (or, with `--in-place`, wherever the
//! operator keeps it) and a catalog record; system disks are qcow2 overlays over the base
//! file, so the file must stay where it is while servers use it.

use crate::config::{BuildDemoArgs, ImportArgs};
use crate::datadir::DataDir;
use ecs_model::image::Image;
use ecs_store::{SqliteStore, Store};
use std::path::{Path, PathBuf};

const GIB: u64 = 1 << 30;

/// Locks the data directory (a running service on it is refused: stop it first) and opens
/// its database, with the checks `ecsd serve` makes.
async fn open_store(data_dir: &Path) -> Result<(DataDir, SqliteStore), String> {
    std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let lock = DataDir::lock(data_dir)?;
    let (store, _) = crate::datadir::open_store(data_dir).await?;
    Ok((lock, store))
}

fn image_dir(data_dir: &Path, id: &str) -> Result<PathBuf, String> {
    let dir = data_dir.join("images").join(id);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    dir.canonicalize().map_err(|e| e.to_string())
}

/// A catalog record for an image file; callers set the OS fields.
fn record(id: &str, name: &str, file: &Path, size: u64) -> Image {
    Image {
        id: id.to_string(),
        name: name.to_string(),
        os_type: "Linux".to_string(),
        platform: "Other".to_string(),
        os_version: String::new(),
        os_bit: "64".to_string(),
        min_disk: 1,
        min_ram: 0,
        size_bytes: size as i64,
        status: "active".to_string(),
        cloud_init: false,
        image_type: "private".to_string(),
        visibility: "public".to_string(),
        owner: None,
        disk_format: "qcow2".to_string(),
        file: Some(file.display().to_string()),
        created_ms: ecs_model::timefmt::now_ms(),
    }
}

/// Builds the demo image and registers it; prints its id.
pub async fn build_demo(a: BuildDemoArgs) -> Result<(), String> {
    let (_lock, store) = open_store(&a.data_dir).await?;
    let id = ecs_model::new_uuid();
    let dir = image_dir(&a.data_dir, &id)?;
    let started = std::time::Instant::now();
    let demo = ecs_driver::qemu::build_demo_image(&dir, &a.variant).await?;
    let size = std::fs::metadata(&demo.image).map(|m| m.len()).unwrap_or(0);
    let mut img = record(&id, &a.name, &demo.image, size);
    img.os_version = format!("ecsd demo {} 64bit", a.variant);
    store.image_put(img).await.map_err(|e| e.to_string())?;
    println!(
        "image {id} built in {:.1} s: {} ({} KiB, kernel {})",
        started.elapsed().as_secs_f64(),
        a.name,
        size / 1024,
        demo.kernel_version
    );
    Ok(())
}

/// Inspects, copies (unless `--in-place`) and registers an image file; prints its id.
pub async fn import(a: ImportArgs) -> Result<(), String> {
    let facts = ecs_driver::qemu::inspect_image(&a.file).await?;
    if facts.root_fs.is_none() && !a.cloud_init {
        return Err(format!(
            "{}: no ext4 root filesystem found (whole disk, MBR or GPT partition), so keys cannot be written into it; \
             import it with --cloud-init if it runs Cloud-Init",
            a.file.display()
        ));
    }
    if facts.format != "qcow2" && facts.format != "raw" {
        return Err(format!(
            "{}: format {} is not supported; convert it to qcow2 or raw",
            a.file.display(),
            facts.format
        ));
    }
    let (_lock, store) = open_store(&a.data_dir).await?;
    let id = ecs_model::new_uuid();
    let base = if a.in_place {
        a.file.canonicalize().map_err(|e| format!("{}: {e}", a.file.display()))?
    } else {
        let dest = image_dir(&a.data_dir, &id)?.join(format!("disk.{}", facts.format));
        std::fs::copy(&a.file, &dest).map_err(|e| format!("cannot copy {}: {e}", a.file.display()))?;
        if let Some(boot) = &facts.boot {
            boot.write_for(&dest)?;
        }
        dest
    };
    let min_disk = a.min_disk.unwrap_or(facts.virtual_size.div_ceil(GIB).max(1) as i64);
    let version = a.os_version.clone().unwrap_or_else(|| format!("{} 64bit", a.platform));
    let mut img = record(&id, &a.name, &base, facts.virtual_size);
    img.os_type = a.os_type.clone();
    img.platform = a.platform.clone();
    img.os_version = version;
    img.cloud_init = a.cloud_init;
    img.min_disk = min_disk;
    img.disk_format = facts.format.clone();
    store.image_put(img).await.map_err(|e| e.to_string())?;
    println!(
        "image {id} imported: {} ({}, {} GiB virtual, root filesystem: {})",
        a.name,
        facts.format,
        min_disk,
        facts.root_fs.map(|f| format!("{f:?}")).unwrap_or_else(|| "none (Cloud-Init)".into())
    );
    Ok(())
}
