//! The edge components' global allocator.
//!
//! The edge node makes a fresh instance of a component for every request (or call) and
//! throws its memory away afterwards, so a component has no use for an allocator that
//! works to reuse memory over a long life. wasi-libc's dlmalloc did: a quarter of the
//! storefront's own time in wasm went to `malloc` and `free` (docs/benchmarks.md).
//!
//! [`InstanceHeap`] hands out memory by bumping an offset through an arena of `N` bytes in
//! the component's static memory (zeroed, so it costs nothing in the binary and is made
//! resident only as it is used). Freeing is a no-op, except that:
//!
//! - freeing or growing the most recent allocation works in place (a `String` or `Vec`
//!   being built grows without a copy);
//! - once every arena allocation has been freed, the arena starts over, so an instance
//!   that a host did reuse for many requests does not use the arena up.
//!
//! What does not fit in what is left of the arena goes to the system allocator, which
//! frees it as usual: an instance never fails for the arena's size.
//!
//! Only for targets without threads: the state is in [`Cell`]s, and the allocator is `Sync`
//! (so it can be a `#[global_allocator]`) only on wasm32 without the `atomics` feature,
//! where nothing else can run at the same time. Natively it builds for its tests.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, UnsafeCell};

/// The arena size the components use: more than a storefront page allocates in total.
pub const ARENA_BYTES: usize = 2 << 20;

#[repr(C, align(16))]
struct Arena<const N: usize>(UnsafeCell<[u8; N]>);

/// A bump allocator over an arena of `N` bytes, falling back to [`System`].
pub struct InstanceHeap<const N: usize = ARENA_BYTES> {
    arena: Arena<N>,
    /// Offset of the first free byte.
    next: Cell<usize>,
    /// Offset of the most recent allocation still live, plus one; 0 if there is none. (Every
    /// field starts at zero, so the heap is all zeros and costs nothing in the binary.)
    last: Cell<usize>,
    /// Allocations in the arena not yet freed.
    live: Cell<usize>,
}

// SAFETY: wasm32 without the `atomics` feature has no threads: no two calls can overlap.
// Elsewhere the heap is not `Sync`, so it cannot be installed as a global allocator.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<const N: usize> Sync for InstanceHeap<N> {}

impl<const N: usize> std::fmt::Debug for InstanceHeap<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceHeap")
            .field("arena_bytes", &N)
            .field("used", &self.next.get())
            .field("live", &self.live.get())
            .finish()
    }
}

impl<const N: usize> Default for InstanceHeap<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> InstanceHeap<N> {
    /// An empty heap (a `const fn`, for a `static`).
    pub const fn new() -> Self {
        Self {
            arena: Arena(UnsafeCell::new([0; N])),
            next: Cell::new(0),
            last: Cell::new(0),
            live: Cell::new(0),
        }
    }

    /// Bytes of the arena handed out since it last started over.
    pub fn used(&self) -> usize {
        self.next.get()
    }

    fn base(&self) -> usize {
        self.arena.0.get() as usize
    }

    /// The offset of `ptr` in the arena, if it is in it.
    fn offset(&self, ptr: *mut u8) -> Option<usize> {
        (ptr as usize).checked_sub(self.base()).filter(|o| *o < N)
    }

    /// Whether the allocation at `offset` is the most recent one still live.
    fn is_last(&self, offset: usize) -> bool {
        self.last.get() == offset + 1
    }

    /// Room for `layout` after the arena's last allocation: its offset.
    fn fit(&self, layout: Layout) -> Option<usize> {
        let base = self.base();
        let start = (base + self.next.get()).checked_next_multiple_of(layout.align())? - base;
        let end = start.checked_add(layout.size())?;
        (end <= N).then_some(start)
    }
}

// SAFETY: every pointer handed out is either inside the arena, aligned and not overlapping
// any live allocation (the offset only moves back over allocations already freed), or
// comes from `System` and goes back to it.
unsafe impl<const N: usize> GlobalAlloc for InstanceHeap<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.fit(layout) {
            Some(start) => {
                self.next.set(start + layout.size());
                self.last.set(start + 1);
                self.live.set(self.live.get() + 1);
                (self.base() + start) as *mut u8
            }
            // SAFETY: the caller's contract for `layout` is the same.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(offset) = self.offset(ptr) else {
            // SAFETY: not in the arena, so `System` allocated it.
            return unsafe { System.dealloc(ptr, layout) };
        };
        let live = self.live.get() - 1;
        self.live.set(live);
        if live == 0 {
            self.next.set(0);
            self.last.set(0);
        } else if self.is_last(offset) {
            self.next.set(offset);
            self.last.set(0);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if let Some(offset) = self.offset(ptr) {
            if new_size <= layout.size() {
                if self.is_last(offset) {
                    self.next.set(offset + new_size);
                }
                return ptr;
            }
            if self.is_last(offset) && offset.checked_add(new_size).is_some_and(|e| e <= N) {
                self.next.set(offset + new_size);
                return ptr;
            }
        }
        // SAFETY: `layout.align()` is a valid alignment and the caller guarantees that
        // `new_size`, rounded up to it, does not overflow `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as for `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap (the
            // old one is still live while the new one is handed out).
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("a valid layout")
    }

    fn in_arena<const N: usize>(heap: &InstanceHeap<N>, ptr: *mut u8) -> bool {
        heap.offset(ptr).is_some()
    }

    #[test]
    fn allocations_bump_through_the_arena_aligned_and_apart() {
        let heap = Box::new(InstanceHeap::<4096>::new());
        let a = unsafe { heap.alloc(layout(3, 1)) };
        let b = unsafe { heap.alloc(layout(8, 8)) };
        let c = unsafe { heap.alloc(layout(32, 16)) };
        assert!(in_arena(&heap, a) && in_arena(&heap, b) && in_arena(&heap, c));
        assert_eq!(b as usize % 8, 0);
        assert_eq!(c as usize % 16, 0);
        assert!(b as usize >= a as usize + 3);
        assert!(c as usize >= b as usize + 8);
        assert_eq!(heap.live.get(), 3);
    }

    #[test]
    fn the_arena_starts_over_once_everything_in_it_is_freed() {
        let heap = Box::new(InstanceHeap::<4096>::new());
        let a = unsafe { heap.alloc(layout(100, 4)) };
        let b = unsafe { heap.alloc(layout(100, 4)) };
        unsafe { heap.dealloc(a, layout(100, 4)) };
        assert!(
            heap.used() >= 200,
            "a freed allocation in the middle is not reused"
        );
        unsafe { heap.dealloc(b, layout(100, 4)) };
        assert_eq!(heap.used(), 0);
        let again = unsafe { heap.alloc(layout(100, 4)) };
        assert_eq!(again, a);
    }

    #[test]
    fn the_most_recent_allocation_grows_and_is_freed_in_place() {
        let heap = Box::new(InstanceHeap::<4096>::new());
        let keep = unsafe { heap.alloc(layout(16, 8)) };
        let grown = unsafe { heap.alloc(layout(10, 1)) };
        unsafe { grown.write_bytes(7, 10) };
        let same = unsafe { heap.realloc(grown, layout(10, 1), 1000) };
        assert_eq!(same, grown, "grown in place");
        assert_eq!(unsafe { *same.add(9) }, 7);
        let before = heap.used();
        unsafe { heap.dealloc(same, layout(1000, 1)) };
        assert_eq!(heap.used(), before - 1000);
        assert!(in_arena(&heap, keep));
    }

    #[test]
    fn growing_an_older_allocation_copies_it() {
        let heap = Box::new(InstanceHeap::<4096>::new());
        let old = unsafe { heap.alloc(layout(4, 1)) };
        unsafe { old.copy_from([1u8, 2, 3, 4].as_ptr(), 4) };
        let _newer = unsafe { heap.alloc(layout(4, 1)) };
        let moved = unsafe { heap.realloc(old, layout(4, 1), 8) };
        assert_ne!(moved, old);
        let bytes = unsafe { std::slice::from_raw_parts(moved, 4) };
        assert_eq!(bytes, [1, 2, 3, 4]);
    }

    #[test]
    fn what_does_not_fit_goes_to_the_system_allocator_and_back() {
        let heap = Box::new(InstanceHeap::<256>::new());
        let small = unsafe { heap.alloc(layout(200, 8)) };
        let big = unsafe { heap.alloc(layout(100, 8)) };
        assert!(in_arena(&heap, small));
        assert!(!big.is_null() && !in_arena(&heap, big));
        unsafe { big.write_bytes(1, 100) };
        // Growing an arena allocation past the arena's end moves it to the system.
        let moved = unsafe { heap.realloc(small, layout(200, 8), 1000) };
        assert!(!in_arena(&heap, moved));
        assert_eq!(
            heap.used(),
            0,
            "the arena started over when its last allocation moved"
        );
        unsafe {
            heap.dealloc(big, layout(100, 8));
            heap.dealloc(moved, layout(1000, 8));
        }
    }
}
