// An in-memory file system for the trustee page's WebAssembly program.
//
// Go's os package, compiled for the browser, calls the Node.js fs API on
// globalThis.fs. The trustee program needs files for one thing: before
// decrypting it downloads the election record and verifies it with the
// same code as koe verify, which reads a directory. This gives it a
// directory tree that lives in the page's memory and is gone when the
// page closes; nothing is written to the trustee's disk. It must be
// loaded before wasm_exec.js, which keeps a globalThis.fs it finds.
"use strict";
(() => {
  const S_IFDIR = 0o40000, S_IFREG = 0o100000;
  const C = { O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024, O_DIRECTORY: 65536 };
  const nodes = new Map(); // absolute path → {dir, data, size, mode, mtime, ino}
  const fds = new Map(); // fd → {path, flags}
  let nextFd = 100, nextIno = 1;
  const now = () => Date.now();
  const mk = (dir, mode) => ({ dir, data: new Uint8Array(0), size: 0, mode, mtime: now(), ino: nextIno++ });
  nodes.set("/", mk(true, 0o755));
  nodes.set("/tmp", mk(true, 0o777));

  const err = (code) => { const e = new Error(code); e.code = code; return e; };
  const norm = (p) => {
    const out = [];
    for (const part of String(p).split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") out.pop(); else out.push(part);
    }
    return "/" + out.join("/");
  };
  const parent = (p) => p === "/" ? "/" : (p.slice(0, p.lastIndexOf("/")) || "/");
  const stat = (n) => ({
    dev: 1, ino: n.ino, mode: (n.dir ? S_IFDIR : S_IFREG) | n.mode, nlink: 1, uid: 0, gid: 0, rdev: 0,
    size: n.dir ? 0 : n.size, blksize: 4096, blocks: Math.ceil((n.dir ? 0 : n.size) / 512),
    atimeMs: n.mtime, mtimeMs: n.mtime, ctimeMs: n.mtime,
    isDirectory: () => n.dir,
  });
  const grow = (n, size) => {
    if (size <= n.data.length) return;
    const d = new Uint8Array(Math.max(size, n.data.length * 2, 4096));
    d.set(n.data.subarray(0, n.size));
    n.data = d;
  };
  const children = (p) => {
    const prefix = p === "/" ? "/" : p + "/";
    const out = [];
    for (const k of nodes.keys()) {
      if (k !== p && k.startsWith(prefix) && !k.slice(prefix.length).includes("/")) out.push(k.slice(prefix.length));
    }
    return out.sort();
  };
  let line = "";
  const console_ = (buf) => {
    line += new TextDecoder().decode(buf);
    const nl = line.lastIndexOf("\n");
    if (nl >= 0) { console.log(line.slice(0, nl)); line = line.slice(nl + 1); }
  };
  // Each call answers through its callback, as Node's fs does.
  const call = (cb, f) => { let r; try { r = f(); } catch (e) { cb(e.code ? e : err("EIO")); return; } cb(null, r); };

  globalThis.fs = {
    constants: C,
    writeSync(fd, buf) { console_(buf); return buf.length; },
    open(path, flags, mode, cb) {
      call(cb, () => {
        const p = norm(path);
        let n = nodes.get(p);
        if (n && (flags & C.O_CREAT) && (flags & C.O_EXCL)) throw err("EEXIST");
        if (!n) {
          if (!(flags & C.O_CREAT)) throw err("ENOENT");
          const d = nodes.get(parent(p));
          if (!d) throw err("ENOENT");
          if (!d.dir) throw err("ENOTDIR");
          n = mk(false, mode & 0o777);
          nodes.set(p, n);
        }
        if (n.dir && (flags & (C.O_WRONLY | C.O_RDWR))) throw err("EISDIR");
        if ((flags & C.O_DIRECTORY) && !n.dir) throw err("ENOTDIR");
        if ((flags & C.O_TRUNC) && !n.dir) { n.size = 0; n.mtime = now(); }
        const fd = nextFd++;
        fds.set(fd, { path: p, flags, pos: 0 });
        return fd;
      });
    },
    close(fd, cb) { call(cb, () => { if (!fds.delete(fd)) throw err("EBADF"); }); },
    read(fd, buf, off, len, pos, cb) {
      call(cb, () => {
        const f = fds.get(fd); if (!f) throw err("EBADF");
        const n = nodes.get(f.path); if (!n) throw err("EBADF");
        if (n.dir) throw err("EISDIR");
        const at = pos === null || pos === undefined ? f.pos : pos;
        const k = Math.max(0, Math.min(len, n.size - at));
        buf.set(n.data.subarray(at, at + k), off);
        if (pos === null || pos === undefined) f.pos += k;
        return k;
      });
    },
    write(fd, buf, off, len, pos, cb) {
      if (fd === 1 || fd === 2) { console_(buf.subarray(off, off + len)); cb(null, len); return; }
      call(cb, () => {
        const f = fds.get(fd); if (!f) throw err("EBADF");
        const n = nodes.get(f.path); if (!n) throw err("EBADF");
        let at = pos === null || pos === undefined ? f.pos : pos;
        if (f.flags & C.O_APPEND) at = n.size;
        grow(n, at + len);
        n.data.set(buf.subarray(off, off + len), at);
        n.size = Math.max(n.size, at + len);
        n.mtime = now();
        if (pos === null || pos === undefined) f.pos = at + len;
        return len;
      });
    },
    fstat(fd, cb) { call(cb, () => { const f = fds.get(fd); if (!f || !nodes.get(f.path)) throw err("EBADF"); return stat(nodes.get(f.path)); }); },
    stat(path, cb) { call(cb, () => { const n = nodes.get(norm(path)); if (!n) throw err("ENOENT"); return stat(n); }); },
    lstat(path, cb) { this.stat(path, cb); },
    mkdir(path, perm, cb) {
      call(cb, () => {
        const p = norm(path);
        if (nodes.has(p)) throw err("EEXIST");
        const d = nodes.get(parent(p));
        if (!d) throw err("ENOENT");
        if (!d.dir) throw err("ENOTDIR");
        nodes.set(p, mk(true, perm & 0o777));
      });
    },
    readdir(path, cb) { call(cb, () => { const n = nodes.get(norm(path)); if (!n) throw err("ENOENT"); if (!n.dir) throw err("ENOTDIR"); return children(norm(path)); }); },
    unlink(path, cb) { call(cb, () => { const p = norm(path), n = nodes.get(p); if (!n) throw err("ENOENT"); if (n.dir) throw err("EISDIR"); nodes.delete(p); }); },
    rmdir(path, cb) {
      call(cb, () => {
        const p = norm(path), n = nodes.get(p);
        if (!n) throw err("ENOENT"); if (!n.dir) throw err("ENOTDIR");
        if (children(p).length) throw err("ENOTEMPTY");
        nodes.delete(p);
      });
    },
    rename(from, to, cb) {
      call(cb, () => {
        const a = norm(from), b = norm(to), n = nodes.get(a);
        if (!n) throw err("ENOENT");
        if (!nodes.get(parent(b))) throw err("ENOENT");
        if (n.dir) {
          for (const k of [...nodes.keys()]) if (k.startsWith(a + "/")) { nodes.set(b + k.slice(a.length), nodes.get(k)); nodes.delete(k); }
        }
        nodes.delete(a); nodes.set(b, n);
      });
    },
    ftruncate(fd, len, cb) { call(cb, () => { const f = fds.get(fd); const n = f && nodes.get(f.path); if (!n) throw err("EBADF"); grow(n, len); if (len > n.size) n.data.fill(0, n.size, len); n.size = len; }); },
    truncate(path, len, cb) { call(cb, () => { const n = nodes.get(norm(path)); if (!n) throw err("ENOENT"); grow(n, len); n.size = len; }); },
    fsync(fd, cb) { cb(null); },
    chmod(path, mode, cb) { call(cb, () => { const n = nodes.get(norm(path)); if (!n) throw err("ENOENT"); n.mode = mode & 0o777; }); },
    fchmod(fd, mode, cb) { call(cb, () => { const f = fds.get(fd); if (!f) throw err("EBADF"); nodes.get(f.path).mode = mode & 0o777; }); },
    utimes(path, atime, mtime, cb) { call(cb, () => { const n = nodes.get(norm(path)); if (!n) throw err("ENOENT"); n.mtime = mtime * 1000; }); },
    chown(path, uid, gid, cb) { cb(null); },
    fchown(fd, uid, gid, cb) { cb(null); },
    lchown(path, uid, gid, cb) { cb(null); },
    link(path, link, cb) { cb(err("ENOSYS")); },
    symlink(path, link, cb) { cb(err("ENOSYS")); },
    readlink(path, cb) { cb(err("EINVAL")); },
  };
  globalThis.process = globalThis.process || {
    getuid() { return -1; }, getgid() { return -1; }, geteuid() { return -1; }, getegid() { return -1; },
    getgroups() { throw err("ENOSYS"); }, pid: -1, ppid: -1,
    umask() { return 0o022; }, cwd() { return "/"; }, chdir() { throw err("ENOSYS"); },
  };
})();
