//! Finding the root ext4 filesystem in a disk: whole-disk, MBR (with logical partitions) or GPT.
//!
//! The parser reads through a callback (`read(offset, len)`), so the same code works on a FUSE
//! export, on bytes pulled out of a qcow2 with `qemu-img dd`, and on in-memory test fixtures.
//! Sector size is 512 bytes: what QEMU presents for image files.

use serde::Serialize;

const SECTOR: u64 = 512;
/// ext2/3/4 superblock: 1024 bytes in; magic at +56, incompat features at +96, label at +120.
const SB_OFFSET: u64 = 1024;
const EXT_MAGIC: u16 = 0xEF53;
/// "needs_recovery": the journal holds transactions a mount would replay over our edits.
const INCOMPAT_RECOVER: u32 = 0x4;
/// GPT type of the x86-64 root partition (Discoverable Partitions Specification).
pub const GPT_ROOT_X86_64: &str = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";
/// GPT type of a generic Linux filesystem.
pub const GPT_LINUX_DATA: &str = "0fc63daf-8483-4772-8e79-3d69d8477de4";

/// Reads `len` bytes at `offset` (short reads past the end are allowed).
pub type Reader<'a> = dyn FnMut(u64, usize) -> Result<Vec<u8>, String> + 'a;

/// Which partition table a disk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Table {
    /// No table: the filesystem (if any) starts at byte 0.
    None,
    Mbr,
    Gpt,
}

/// One partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// 1-based, as Linux numbers them (logical MBR partitions start at 5).
    pub number: u32,
    /// Byte offset of the first sector.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
    /// MBR type byte as hex (`83`) or GPT type GUID (lower case).
    pub type_id: String,
    /// GPT partition name (empty for MBR).
    pub name: String,
}

/// A disk's partition layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub table: Table,
    pub partitions: Vec<Partition>,
}

/// An ext2/3/4 filesystem found on the disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtFs {
    /// Byte offset of the filesystem in the disk.
    pub offset: u64,
    /// Partition number, `None` for a whole-disk filesystem.
    pub partition: Option<u32>,
    /// Partition length in bytes, `None` for a whole-disk filesystem.
    pub size: Option<u64>,
    pub label: String,
    /// The journal needs replaying (the filesystem was not cleanly unmounted).
    pub needs_recovery: bool,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn read_exact(read: &mut Reader<'_>, offset: u64, len: usize, what: &str) -> Result<Vec<u8>, String> {
    let b = read(offset, len)?;
    if b.len() < len {
        return Err(format!("disk too short: cannot read the {what} at byte {offset}"));
    }
    Ok(b)
}

/// The 16 bytes of a GUID string in GPT's layout (first three fields little-endian): the
/// inverse of [`guid_string`], for writing a partition table. `None` unless `s` is 32 hex
/// digits, with or without hyphens.
pub fn guid_bytes(s: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = s.bytes().filter(|c| *c != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    for (byte, pair) in b.iter_mut().zip(hex.chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    Some(b)
}

/// Formats a GPT GUID (first three fields little-endian) the usual way.
pub fn guid_string(b: &[u8]) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        le32(b, 0),
        le16(b, 4),
        le16(b, 6),
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

/// Reads the partition table. A disk with no recognisable table is [`Table::None`].
pub fn read_layout(read: &mut Reader<'_>) -> Result<Layout, String> {
    let mbr = read_exact(read, 0, 512, "master boot record")?;
    if mbr[510] != 0x55 || mbr[511] != 0xAA {
        return Ok(Layout { table: Table::None, partitions: Vec::new() });
    }
    let entries: Vec<&[u8]> = (0..4).map(|i| &mbr[446 + 16 * i..446 + 16 * (i + 1)]).collect();
    if entries.iter().any(|e| e[4] == 0xEE) {
        let header = read_exact(read, SECTOR, 92, "GPT header")?;
        if &header[0..8] == b"EFI PART" {
            return read_gpt(read, &header);
        }
    }
    // A filesystem boot sector also ends in 55 AA; MBR partitions must at least have sane
    // status bytes, else treat the disk as table-less.
    if entries.iter().any(|e| e[0] != 0 && e[0] != 0x80) {
        return Ok(Layout { table: Table::None, partitions: Vec::new() });
    }
    let mut partitions = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let (kind, start, count) = (e[4], le32(e, 8) as u64, le32(e, 12) as u64);
        if kind == 0 || count == 0 {
            continue;
        }
        if matches!(kind, 0x05 | 0x0F | 0x85) {
            read_logical(read, start, &mut partitions)?;
        } else {
            partitions.push(Partition {
                number: i as u32 + 1,
                start: start * SECTOR,
                size: count * SECTOR,
                type_id: format!("{kind:02x}"),
                name: String::new(),
            });
        }
    }
    Ok(Layout { table: Table::Mbr, partitions })
}

/// Follows the chain of extended boot records: each holds one logical partition (relative to
/// itself) and a link to the next record (relative to the extended partition's start).
fn read_logical(read: &mut Reader<'_>, ext_start: u64, out: &mut Vec<Partition>) -> Result<(), String> {
    let mut ebr = ext_start;
    let mut number = 5;
    // A corrupt chain could loop; real disks have far fewer logical partitions.
    for _ in 0..128 {
        let b = read_exact(read, ebr * SECTOR, 512, "extended boot record")?;
        if b[510] != 0x55 || b[511] != 0xAA {
            return Ok(());
        }
        let (e1, e2) = (&b[446..462], &b[462..478]);
        if e1[4] != 0 && le32(e1, 12) != 0 {
            out.push(Partition {
                number,
                start: (ebr + le32(e1, 8) as u64) * SECTOR,
                size: le32(e1, 12) as u64 * SECTOR,
                type_id: format!("{:02x}", e1[4]),
                name: String::new(),
            });
            number += 1;
        }
        let next = le32(e2, 8) as u64;
        if e2[4] == 0 || next == 0 {
            return Ok(());
        }
        ebr = ext_start + next;
    }
    Ok(())
}

fn read_gpt(read: &mut Reader<'_>, header: &[u8]) -> Result<Layout, String> {
    let entries_lba = le64(header, 72);
    let count = le32(header, 80) as usize;
    let size = le32(header, 84) as usize;
    if !(128..=4096).contains(&size) || count > 1024 {
        return Err(format!("GPT header is corrupt (entry size {size}, {count} entries)"));
    }
    let table = read_exact(read, entries_lba * SECTOR, count * size, "GPT partition entries")?;
    let mut partitions = Vec::new();
    for i in 0..count {
        let e = &table[i * size..(i + 1) * size];
        if e[0..16].iter().all(|b| *b == 0) {
            continue;
        }
        let (first, last) = (le64(e, 32), le64(e, 40));
        if last < first {
            continue;
        }
        let name: Vec<u16> =
            e[56..128].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|c| *c != 0).collect();
        partitions.push(Partition {
            number: i as u32 + 1,
            start: first * SECTOR,
            size: (last - first + 1) * SECTOR,
            type_id: guid_string(&e[0..16]),
            name: String::from_utf16_lossy(&name),
        });
    }
    Ok(Layout { table: Table::Gpt, partitions })
}

/// Looks for an ext2/3/4 superblock at `offset`.
pub fn probe_ext(read: &mut Reader<'_>, part: Option<&Partition>) -> Result<Option<ExtFs>, String> {
    let offset = part.map_or(0, |p| p.start);
    let sb = read(offset + SB_OFFSET, 136)?;
    if sb.len() < 136 || le16(&sb, 56) != EXT_MAGIC {
        return Ok(None);
    }
    let label: Vec<u8> = sb[120..136].iter().copied().take_while(|b| *b != 0).collect();
    Ok(Some(ExtFs {
        offset,
        partition: part.map(|p| p.number),
        size: part.map(|p| p.size),
        label: String::from_utf8_lossy(&label).to_string(),
        needs_recovery: le32(&sb, 96) & INCOMPAT_RECOVER != 0,
    }))
}

/// Every ext filesystem on the disk, most likely root first: a whole-disk filesystem; else GPT
/// root-typed partitions, then Linux-typed ones, then anything else, larger before smaller.
/// The caller confirms the choice by looking for `/etc/passwd`.
pub fn ext_candidates(read: &mut Reader<'_>, layout: &Layout) -> Result<Vec<ExtFs>, String> {
    if layout.table == Table::None {
        return Ok(probe_ext(read, None)?.into_iter().collect());
    }
    let rank = |p: &Partition| match p.type_id.as_str() {
        GPT_ROOT_X86_64 => 0,
        GPT_LINUX_DATA | "83" => 1,
        _ => 2,
    };
    let mut parts: Vec<&Partition> = layout.partitions.iter().collect();
    parts.sort_by(|a, b| rank(a).cmp(&rank(b)).then(b.size.cmp(&a.size)));
    let mut out = Vec::new();
    for p in parts {
        if let Some(fs) = probe_ext(read, Some(p))? {
            out.push(fs);
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A sparse in-memory disk.
    pub(crate) struct Disk(pub Vec<u8>);

    impl Disk {
        pub(crate) fn new(size: usize) -> Disk {
            Disk(vec![0; size])
        }
        fn put(&mut self, at: u64, bytes: &[u8]) {
            self.0[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        }
        pub(crate) fn ext(&mut self, at: u64, label: &str, recover: bool) {
            self.put(at + SB_OFFSET + 56, &EXT_MAGIC.to_le_bytes());
            self.put(at + SB_OFFSET + 96, &(if recover { INCOMPAT_RECOVER } else { 0 }).to_le_bytes());
            self.put(at + SB_OFFSET + 120, label.as_bytes());
        }
        fn mbr_entry(&mut self, sector: u64, slot: usize, kind: u8, start: u32, count: u32) {
            let at = sector * SECTOR + 446 + 16 * slot as u64;
            self.put(at + 4, &[kind]);
            self.put(at + 8, &start.to_le_bytes());
            self.put(at + 12, &count.to_le_bytes());
            self.put(sector * SECTOR + 510, &[0x55, 0xAA]);
        }
        pub(crate) fn reader(&self) -> impl FnMut(u64, usize) -> Result<Vec<u8>, String> + '_ {
            move |off, len| {
                let s = (off as usize).min(self.0.len());
                let e = (s + len).min(self.0.len());
                Ok(self.0[s..e].to_vec())
            }
        }
    }

    #[test]
    fn guid_bytes_and_guid_string_are_inverses() {
        let linux = "0fc63daf-8483-4772-8e79-3d69d8477de4";
        let b = guid_bytes(linux).unwrap();
        assert_eq!(&b[..4], &[0xaf, 0x3d, 0xc6, 0x0f], "first field little-endian");
        assert_eq!(guid_string(&b), linux);
        assert_eq!(guid_bytes("0fc63daf84834772"), None);
        assert_eq!(guid_bytes("zzc63daf-8483-4772-8e79-3d69d8477de4"), None);
    }

    #[test]
    fn whole_disk_ext4() {
        let mut d = Disk::new(1 << 20);
        d.ext(0, "root", false);
        let mut r = d.reader();
        let layout = read_layout(&mut r).unwrap();
        assert_eq!(layout.table, Table::None);
        let c = ext_candidates(&mut r, &layout).unwrap();
        assert_eq!(
            c,
            vec![ExtFs { offset: 0, partition: None, size: None, label: "root".into(), needs_recovery: false }]
        );
    }

    #[test]
    fn mbr_with_primary_and_logical_partitions() {
        let mut d = Disk::new(8 << 20);
        // 1: small ext /boot at 1 MiB; 2: extended from 3 MiB holding two logicals; 3: swap.
        d.mbr_entry(0, 0, 0x83, 2048, 2048);
        d.mbr_entry(0, 1, 0x05, 6144, 8192);
        d.mbr_entry(0, 2, 0x82, 14336, 1024);
        d.mbr_entry(6144, 0, 0x83, 64, 1024); // logical 5 at sector 6208
        d.mbr_entry(6144, 1, 0x05, 2048, 4096); // next EBR at 6144 + 2048
        d.mbr_entry(8192, 0, 0x83, 64, 4000); // logical 6 at sector 8256, the largest
        d.ext(2048 * 512, "boot", false);
        d.ext(6208 * 512, "data", false);
        d.ext(8256 * 512, "root", true);
        let mut r = d.reader();
        let layout = read_layout(&mut r).unwrap();
        assert_eq!(layout.table, Table::Mbr);
        let numbers: Vec<(u32, u64, &str)> =
            layout.partitions.iter().map(|p| (p.number, p.start / 512, p.type_id.as_str())).collect();
        assert_eq!(numbers, vec![(1, 2048, "83"), (5, 6208, "83"), (6, 8256, "83"), (3, 14336, "82")]);
        let c = ext_candidates(&mut r, &layout).unwrap();
        let labels: Vec<&str> = c.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, vec!["root", "boot", "data"], "larger Linux partitions first");
        assert!(c[0].needs_recovery);
        assert_eq!((c[0].partition, c[0].size), (Some(6), Some(4000 * 512)));
    }

    #[test]
    fn gpt_prefers_the_root_partition_type() {
        let mut d = Disk::new(16 << 20);
        d.mbr_entry(0, 0, 0xEE, 1, 0xFFFF_FFFF);
        let mut hdr = [0u8; 92];
        hdr[0..8].copy_from_slice(b"EFI PART");
        hdr[72..80].copy_from_slice(&2u64.to_le_bytes());
        hdr[80..84].copy_from_slice(&128u32.to_le_bytes());
        hdr[84..88].copy_from_slice(&128u32.to_le_bytes());
        d.put(512, &hdr);
        let mut entry = |i: u64, ty: &str, first: u64, last: u64, name: &str| {
            let at = 1024 + i * 128;
            d.put(at, &guid_bytes(ty).unwrap());
            d.put(at + 16, &[1; 16]);
            d.put(at + 32, &first.to_le_bytes());
            d.put(at + 40, &last.to_le_bytes());
            let n: Vec<u8> = name.encode_utf16().flat_map(|c| c.to_le_bytes()).collect();
            d.put(at + 56, &n);
        };
        entry(0, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", 2048, 4095, "EFI System");
        entry(1, GPT_LINUX_DATA, 4096, 20479, "home");
        entry(3, GPT_ROOT_X86_64, 20480, 24575, "root");
        d.ext(4096 * 512, "home", false);
        d.ext(20480 * 512, "rootfs", false);
        let mut r = d.reader();
        let layout = read_layout(&mut r).unwrap();
        assert_eq!(layout.table, Table::Gpt);
        assert_eq!(layout.partitions.len(), 3);
        assert_eq!(layout.partitions[2].number, 4);
        assert_eq!(layout.partitions[2].name, "root");
        assert_eq!(layout.partitions[0].type_id, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
        let c = ext_candidates(&mut r, &layout).unwrap();
        assert_eq!(c.iter().map(|f| f.offset / 512).collect::<Vec<_>>(), vec![20480, 4096]);
    }

    #[test]
    fn blank_and_truncated_disks() {
        let d = Disk::new(4096);
        let mut r = d.reader();
        let layout = read_layout(&mut r).unwrap();
        assert!(ext_candidates(&mut r, &layout).unwrap().is_empty());
        let tiny = Disk::new(100);
        assert!(read_layout(&mut tiny.reader()).is_err());
    }
}
