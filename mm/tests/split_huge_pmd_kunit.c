// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for splitting huge PMDs: split_huge_pmd() and friends.
 *
 * KUnit runs each test case in a kthread of its own, to which the case
 * attaches a new mm with kunit_vm_mmap(). The mappings, page tables and
 * pages of a case go away with that mm when the case ends.
 *
 * The failure cases need CONFIG_FAIL_PMD_SPLIT=y. They redirect the split's
 * fault injection point, should_fail_pmd_split(), with a KUnit static stub
 * that fails the next call from the test's thread. (fail-nth would count
 * every fault injection point the thread passes: under KASAN or kmemleak,
 * their own allocations, which fail silently, used it up before the split.)
 *
 * The device migration cases drive migrate_vma_setup(), migrate_vma_pages()
 * and migrate_vma_finalize() like a device driver does, with order-0
 * system memory pages as the destination: fewer pages than a THP, so the
 * THP has to be split on the way, and no device memory is needed.
 */
#include <kunit/resource.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

#include "../internal.h"

/* A PMD-aligned range inside a user mapping of twice the PMD size. */
struct test_range {
	struct mm_struct *mm;
	unsigned long start;	/* Start of the whole mapping. */
	unsigned long len;	/* Length of the whole mapping. */
	unsigned long addr;	/* PMD-aligned start of the range. */
	pmd_t *pmd;		/* The PMD covering the range, once mapped. */
	struct folio *folio;	/* The THP it maps, referenced, or NULL. */
};

/* What a failed split must leave unchanged. */
struct split_state {
	pmd_t pmdval;
	unsigned long pgtables_bytes;
	int refcount;
	int mapcount;
	int large_mapcount;
	int entire_mapcount;
};

/* The thp_split_pmd and thp_split_pmd_failed vm events. */
struct split_events {
	unsigned long split;
	unsigned long failed;
};

KUNIT_DEFINE_ACTION_WRAPPER(folio_put_action, folio_put, struct folio *);

/* What a PTE table adds to mm_pgtables_bytes(). */
#define PTE_TABLE_BYTES	(PTRS_PER_PTE * sizeof(pte_t))

#ifdef CONFIG_FAIL_PMD_SPLIT
static bool failure_armed;

/* should_fail_pmd_split() of the test's thread: fail once when armed. */
static bool fail_armed_split(void)
{
	if (!failure_armed)
		return false;
	failure_armed = false;
	return true;
}

/* Make the next PMD split of this task that may fail, fail. */
static void inject_failure(void)
{
	failure_armed = true;
	kunit_activate_static_stub(kunit_get_current_test(),
				   should_fail_pmd_split, fail_armed_split);
}

/* Tell whether the failure was injected, and cancel it if it was not. */
static bool failure_injected(void)
{
	bool injected = !failure_armed;

	failure_armed = false;
	kunit_deactivate_static_stub(kunit_get_current_test(),
				     should_fail_pmd_split);
	return injected;
}
#else
static void inject_failure(void)
{
}

static bool failure_injected(void)
{
	return false;
}
#endif

static void require_fault_injection(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_FAIL_PMD_SPLIT))
		kunit_skip(test, "needs CONFIG_FAIL_PMD_SPLIT=y");
}

static void read_split_events(struct kunit *test, struct split_events *ev)
{
	unsigned long *events;

	events = kunit_kcalloc(test, NR_VM_EVENT_ITEMS, sizeof(*events),
			       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, events);
	all_vm_events(events);
	ev->split = events[THP_SPLIT_PMD];
	ev->failed = events[THP_SPLIT_PMD_FAILED];
	kunit_kfree(test, events);
}

/*
 * Check how many PMD splits and failed PMD splits were counted since
 * @before. The counters are global: this assumes that nothing else splits
 * PMDs meanwhile, as is the case when the tests run at boot.
 */
static void expect_split_events(struct kunit *test,
				const struct split_events *before,
				unsigned long split, unsigned long failed)
{
	struct split_events now;

	if (!IS_ENABLED(CONFIG_VM_EVENT_COUNTERS))
		return;

	read_split_events(test, &now);
	KUNIT_EXPECT_EQ_MSG(test, now.split - before->split, split,
			    "thp_split_pmd");
	KUNIT_EXPECT_EQ_MSG(test, now.failed - before->failed, failed,
			    "thp_split_pmd_failed");
}

/* The word written at the start of page @i of the range. */
static unsigned long page_pattern(unsigned long i)
{
	return (i << 8) | 0xa5;
}

static unsigned long __user *page_word(struct test_range *range,
				       unsigned long i)
{
	return (unsigned long __user *)(range->addr + i * PAGE_SIZE);
}

/*
 * Count the pages in [@first, @last) of the range that do not read back
 * as written by map_thp(), or as zero if @zero.
 */
static unsigned long count_bad_pages(struct test_range *range,
				     unsigned long first, unsigned long last,
				     bool zero)
{
	unsigned long i, val, bad = 0;

	for (i = first; i < last; i++) {
		if (get_user(val, page_word(range, i)) ||
		    val != (zero ? 0 : page_pattern(i)))
			bad++;
	}
	return bad;
}

static void expect_data(struct kunit *test, struct test_range *range,
			bool zero)
{
	KUNIT_EXPECT_EQ_MSG(test,
			    count_bad_pages(range, 0, HPAGE_PMD_NR, zero), 0,
			    "pages do not read back as expected");
}

/*
 * Map twice the PMD size of anonymous memory, so that it contains a
 * PMD-aligned range, and make it THP-eligible.
 */
static void map_test_range(struct kunit *test, struct test_range *range)
{
	int err;

	range->len = 2 * HPAGE_PMD_SIZE;
	range->start = kunit_vm_mmap(test, NULL, 0, range->len,
				     PROT_READ | PROT_WRITE,
				     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, range->start, 0,
			    "Could not create a user mm");
	KUNIT_ASSERT_LT_MSG(test, range->start, (unsigned long)TASK_SIZE,
			    "Could not map user memory");
	range->mm = current->mm;
	range->addr = ALIGN(range->start, HPAGE_PMD_SIZE);
	range->pmd = NULL;
	range->folio = NULL;

	/* THPs may only be enabled for madvise(). */
	err = do_madvise(range->mm, range->start, range->len, MADV_HUGEPAGE);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "MADV_HUGEPAGE failed");
}

/*
 * Map the test range with a THP, write a pattern to it, and take a
 * reference on the THP, dropped when the test case ends. Skip the test
 * case if no THP could be allocated.
 */
static void map_thp(struct kunit *test, struct test_range *range)
{
	struct folio *folio = NULL;
	unsigned long i;
	spinlock_t *ptl;	/* Page table lock. */
	pmd_t pmdval;
	pmd_t *pmd;
	int err;

	map_test_range(test, range);

	/* The first write faults in a THP, if one can be allocated. */
	for (i = 0; i < HPAGE_PMD_NR; i++) {
		err = put_user(page_pattern(i), page_word(range, i));
		KUNIT_ASSERT_EQ(test, err, 0);
	}

	mmap_read_lock(range->mm);
	pmd = mm_find_pmd(range->mm, range->addr);
	if (pmd) {
		ptl = pmd_lock(range->mm, pmd);
		pmdval = pmdp_get(pmd);
		if (pmd_trans_huge(pmdval) && !is_huge_zero_pmd(pmdval)) {
			folio = page_folio(pmd_page(pmdval));
			folio_get(folio);
		}
		spin_unlock(ptl);
	}
	mmap_read_unlock(range->mm);

	if (!folio)
		kunit_skip(test,
			   "no THP at %#lx: THPs disabled, or none could be allocated",
			   range->addr);

	err = kunit_add_action_or_reset(test, folio_put_action, folio);
	KUNIT_ASSERT_EQ(test, err, 0);
	range->pmd = pmd;
	range->folio = folio;

	KUNIT_ASSERT_EQ(test, folio_order(folio), HPAGE_PMD_ORDER);
	KUNIT_ASSERT_TRUE(test, folio_test_anon(folio));
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(folio), 1);
	KUNIT_EXPECT_EQ(test, folio_large_mapcount(folio), 1);
	KUNIT_EXPECT_EQ(test, folio_mapcount(folio), 1);
}

/*
 * Map the test range with the huge zero page by reading from it. Skip the
 * test case if the huge zero page is not used.
 */
static void map_huge_zero_pmd(struct kunit *test, struct test_range *range)
{
	bool huge_zero = false;
	unsigned long val;
	pmd_t *pmd;
	int err;

	map_test_range(test, range);

	err = get_user(val, page_word(range, 0));
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, val, 0);

	mmap_read_lock(range->mm);
	pmd = mm_find_pmd(range->mm, range->addr);
	if (pmd)
		huge_zero = is_huge_zero_pmd(pmdp_get(pmd));
	mmap_read_unlock(range->mm);

	if (!huge_zero)
		kunit_skip(test,
			   "no huge zero PMD at %#lx: THPs or the huge zero page disabled",
			   range->addr);
	range->pmd = pmd;
}

static void save_state(struct test_range *range, struct split_state *state)
{
	struct folio *folio = range->folio;

	memset(state, 0, sizeof(*state));
	mmap_read_lock(range->mm);
	state->pmdval = pmdp_get(range->pmd);
	state->pgtables_bytes = mm_pgtables_bytes(range->mm);
	mmap_read_unlock(range->mm);

	if (folio) {
		state->refcount = folio_ref_count(folio);
		state->mapcount = folio_mapcount(folio);
		state->large_mapcount = folio_large_mapcount(folio);
		state->entire_mapcount = folio_entire_mapcount(folio);
	}
}

static void expect_state_unchanged(struct kunit *test,
				   struct test_range *range,
				   const struct split_state *before)
{
	struct split_state now;

	save_state(range, &now);
	KUNIT_EXPECT_TRUE_MSG(test, pmd_same(now.pmdval, before->pmdval),
			      "PMD changed from %#llx to %#llx",
			      (u64)pmd_val(before->pmdval),
			      (u64)pmd_val(now.pmdval));
	KUNIT_EXPECT_EQ(test, now.pgtables_bytes, before->pgtables_bytes);
	KUNIT_EXPECT_EQ(test, now.refcount, before->refcount);
	KUNIT_EXPECT_EQ(test, now.mapcount, before->mapcount);
	KUNIT_EXPECT_EQ(test, now.large_mapcount, before->large_mapcount);
	KUNIT_EXPECT_EQ(test, now.entire_mapcount, before->entire_mapcount);
}

/*
 * Split the PMD of the test range under the mmap lock held for reading,
 * like a page table walker does, with split_huge_pmd() or, if @by_address,
 * split_huge_pmd_address(). If @inject, inject a failure into the split,
 * and tell in @injected whether the failure was injected.
 */
static int split_range_pmd(struct test_range *range, bool by_address,
			   bool inject, bool *injected)
{
	struct vm_area_struct *vma;
	int err = -EFAULT;

	*injected = false;
	mmap_read_lock(range->mm);
	vma = vma_lookup(range->mm, range->addr);
	if (vma) {
		if (inject)
			inject_failure();
		if (by_address)
			err = split_huge_pmd_address(vma, range->addr, false);
		else
			err = split_huge_pmd(vma, range->pmd, range->addr);
		if (inject)
			*injected = failure_injected();
	}
	mmap_read_unlock(range->mm);

	return err;
}

/*
 * Check that the PMD of the test range is now a page table, whose PTEs map
 * the pages of the THP in order, or the zero page if @zero.
 */
static void expect_pte_mapped(struct kunit *test, struct test_range *range,
			      bool zero)
{
	unsigned long i, addr, pfn, bad = 0, first_bad = 0;
	bool table = false;
	spinlock_t *ptl;	/* Page table lock. */
	pte_t *pte;

	mmap_read_lock(range->mm);
	pte = pte_offset_map_lock(range->mm, range->pmd, range->addr, &ptl);
	if (pte) {
		table = true;
		for (i = 0; i < HPAGE_PMD_NR; i++) {
			pte_t ptent = ptep_get(pte + i);

			addr = range->addr + i * PAGE_SIZE;
			if (zero)
				pfn = zero_pfn(addr);
			else
				pfn = folio_pfn(range->folio) + i;
			if (pte_present(ptent) && pte_pfn(ptent) == pfn)
				continue;
			if (!bad++)
				first_bad = i;
		}
		pte_unmap_unlock(pte, ptl);
	}
	mmap_read_unlock(range->mm);

	KUNIT_ASSERT_TRUE_MSG(test, table, "no page table at %#lx",
			      range->addr);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0,
			    "PTE %lu and %lu others do not map the expected page",
			    first_bad, bad ? bad - 1 : 0);
}

/* Does a huge PMD in the test range carry a deposited page table? */
static bool range_deposits(struct test_range *range)
{
	struct vm_area_struct *vma;
	bool deposit;

	mmap_read_lock(range->mm);
	vma = vma_lookup(range->mm, range->addr);
	deposit = vma && thp_needs_deposit(vma);
	mmap_read_unlock(range->mm);
	return deposit;
}

/*
 * A split maps the same pages with PTEs, and the data stays. The page
 * table it fills counts as a page table of the mm from then on: it was
 * already counted if it was deposited, it is added if it was allocated.
 */
static void split_maps_pages_with_ptes(struct kunit *test)
{
	struct split_events events;
	struct split_state before;
	struct test_range range;
	bool injected;
	int err;

	map_thp(test, &range);
	read_split_events(test, &events);
	save_state(&range, &before);

	err = split_range_pmd(&range, false, false, &injected);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, mm_pgtables_bytes(range.mm) - before.pgtables_bytes,
			range_deposits(&range) ? 0 : PTE_TABLE_BYTES);

	expect_pte_mapped(test, &range, false);
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(range.folio), 0);
	KUNIT_EXPECT_EQ(test, folio_large_mapcount(range.folio), HPAGE_PMD_NR);
	KUNIT_EXPECT_EQ(test, folio_ref_count(range.folio),
			before.refcount + HPAGE_PMD_NR - 1);
	expect_data(test, &range, false);
	expect_split_events(test, &events, 1, 0);
}

/*
 * A THP mapped by a PMD holds a page table only where the architecture
 * needs a deposit: zapping it whole frees that table, and none elsewhere.
 */
static void thp_holds_table_only_if_deposited(struct kunit *test)
{
	unsigned long before, after;
	struct test_range range;
	int err;

	map_thp(test, &range);
	before = mm_pgtables_bytes(range.mm);
	err = do_madvise(range.mm, range.addr, HPAGE_PMD_SIZE, MADV_DONTNEED);
	KUNIT_ASSERT_EQ(test, err, 0);
	after = mm_pgtables_bytes(range.mm);

	KUNIT_EXPECT_EQ(test, before - after,
			range_deposits(&range) ? PTE_TABLE_BYTES : 0);
}

/* A failed split changes nothing. */
static void failed_split_changes_nothing(struct kunit *test)
{
	struct split_events events;
	struct split_state before;
	struct test_range range;
	bool injected;
	int err;

	require_fault_injection(test);
	map_thp(test, &range);
	read_split_events(test, &events);
	save_state(&range, &before);

	err = split_range_pmd(&range, false, true, &injected);
	KUNIT_EXPECT_EQ(test, err, -ENOMEM);
	KUNIT_EXPECT_TRUE(test, injected);

	expect_state_unchanged(test, &range, &before);
	expect_data(test, &range, false);
	expect_split_events(test, &events, 0, 1);
}

/* A split retried after a failure succeeds. */
static void split_after_failure(struct kunit *test)
{
	struct split_events events;
	struct test_range range;
	bool injected;
	int err;

	require_fault_injection(test);
	map_thp(test, &range);
	read_split_events(test, &events);

	err = split_range_pmd(&range, true, true, &injected);
	KUNIT_EXPECT_EQ(test, err, -ENOMEM);
	KUNIT_EXPECT_TRUE(test, injected);

	err = split_range_pmd(&range, true, false, &injected);
	KUNIT_ASSERT_EQ(test, err, 0);
	expect_pte_mapped(test, &range, false);
	expect_data(test, &range, false);

	/* Nothing is left to split, so there is nothing to fail either. */
	err = split_range_pmd(&range, true, true, &injected);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_FALSE(test, injected);

	expect_split_events(test, &events, 1, 1);
}

/* Splitting the huge zero PMD maps the zero page with PTEs. */
static void split_huge_zero_pmd(struct kunit *test)
{
	struct split_events events;
	struct test_range range;
	bool injected;
	int err;

	map_huge_zero_pmd(test, &range);
	read_split_events(test, &events);

	err = split_range_pmd(&range, false, false, &injected);
	KUNIT_ASSERT_EQ(test, err, 0);

	expect_pte_mapped(test, &range, true);
	expect_data(test, &range, true);
	expect_split_events(test, &events, 1, 0);
}

/* A failed split of the huge zero PMD leaves it in place. */
static void failed_huge_zero_pmd_split(struct kunit *test)
{
	struct split_events events;
	struct split_state before;
	struct test_range range;
	bool injected;
	int err;

	require_fault_injection(test);
	map_huge_zero_pmd(test, &range);
	read_split_events(test, &events);
	save_state(&range, &before);

	err = split_range_pmd(&range, false, true, &injected);
	KUNIT_EXPECT_EQ(test, err, -ENOMEM);
	KUNIT_EXPECT_TRUE(test, injected);

	expect_state_unchanged(test, &range, &before);
	KUNIT_EXPECT_TRUE(test, is_huge_zero_pmd(before.pmdval));
	expect_data(test, &range, true);
	expect_split_events(test, &events, 0, 1);
}

/* Splitting where nothing is mapped does nothing, and cannot fail. */
static void nothing_to_split(struct kunit *test)
{
	unsigned long pgtables_before, pgtables_after;
	bool none_before, none_after, injected = false;
	struct split_events events;
	struct vm_area_struct *vma;
	struct test_range range;
	int err = -EFAULT;
	pmd_t *pmd;

	map_test_range(test, &range);
	read_split_events(test, &events);

	mmap_read_lock(range.mm);
	pgtables_before = mm_pgtables_bytes(range.mm);
	pmd = mm_find_pmd(range.mm, range.addr);
	none_before = !pmd || pmd_none(pmdp_get(pmd));
	vma = vma_lookup(range.mm, range.addr);
	if (vma) {
		inject_failure();
		err = split_huge_pmd_address(vma, range.addr, false);
		injected = failure_injected();
	}
	pmd = mm_find_pmd(range.mm, range.addr);
	none_after = !pmd || pmd_none(pmdp_get(pmd));
	pgtables_after = mm_pgtables_bytes(range.mm);
	mmap_read_unlock(range.mm);

	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_FALSE(test, injected);
	KUNIT_EXPECT_TRUE(test, none_before);
	KUNIT_EXPECT_TRUE(test, none_after);
	KUNIT_EXPECT_EQ(test, pgtables_after, pgtables_before);
	expect_split_events(test, &events, 0, 0);
}

/*
 * Split the PMD mappings of the THP of the test range as reclaim does
 * before it unmaps the THP: in a PF_MEMALLOC scope, for try_to_unmap()
 * without TTU_IGNORE_MLOCK.
 */
static int reclaim_split_pmd_mappings(struct test_range *range)
{
	unsigned int noreclaim;
	int ret;

	folio_lock(range->folio);
	noreclaim = memalloc_noreclaim_save();
	ret = folio_split_pmd_mappings(range->folio, TTU_SPLIT_HUGE_PMD);
	memalloc_noreclaim_restore(noreclaim);
	folio_unlock(range->folio);
	return ret;
}

/*
 * Reclaim allocates no table for a THP mapped in an mlocked VMA, which
 * try_to_unmap() would not unmap: nothing is split, and the THP is mlocked
 * again, as try_to_unmap_one() does.
 */
static void reclaim_skips_mlocked_thp(struct kunit *test)
{
	struct split_events events;
	struct split_state before;
	struct vm_area_struct *vma;
	struct test_range range;
	int ret;

	map_thp(test, &range);
	if (range_deposits(&range))
		kunit_skip(test, "the THP carries a deposited table");
	mmap_write_lock(range.mm);
	vma = vma_lookup(range.mm, range.addr);
	if (vma)
		vm_flags_set(vma, VM_LOCKED);
	mmap_write_unlock(range.mm);
	KUNIT_ASSERT_NOT_NULL(test, vma);
	read_split_events(test, &events);
	save_state(&range, &before);

	ret = reclaim_split_pmd_mappings(&range);
	KUNIT_EXPECT_EQ(test, ret, -EBUSY);
	expect_state_unchanged(test, &range, &before);
	KUNIT_EXPECT_TRUE(test, folio_test_mlocked(range.folio));
	expect_split_events(test, &events, 0, 0);
}

/*
 * Nor for a THP pinned for DMA, which try_to_unmap() would not unmap
 * either.
 */
static void reclaim_skips_pinned_thp(struct kunit *test)
{
	struct split_events events;
	struct split_state before;
	struct test_range range;
	struct page *page;
	int ret;

	map_thp(test, &range);
	if (range_deposits(&range))
		kunit_skip(test, "the THP carries a deposited table");
	ret = pin_user_pages_fast(range.addr, 1, FOLL_WRITE, &page);
	KUNIT_ASSERT_EQ(test, ret, 1);
	read_split_events(test, &events);
	save_state(&range, &before);

	ret = reclaim_split_pmd_mappings(&range);
	KUNIT_EXPECT_EQ(test, ret, -EBUSY);
	expect_state_unchanged(test, &range, &before);
	expect_split_events(test, &events, 0, 0);
	unpin_user_page(page);
}

/*
 * A THP that reclaim may unmap gets its table, and is mapped by PTEs
 * afterwards, with its data.
 */
static void reclaim_splits_thp(struct kunit *test)
{
	struct split_events events;
	struct test_range range;
	int ret;

	map_thp(test, &range);
	if (range_deposits(&range))
		kunit_skip(test, "the THP carries a deposited table");
	read_split_events(test, &events);

	ret = reclaim_split_pmd_mappings(&range);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, folio_entire_mapcount(range.folio), 0);
	expect_data(test, &range, false);
	expect_split_events(test, &events, 1, 0);
}

/*
 * Split the VMA of the test range at @addr with split_vma(), as mprotect()
 * and others do. If @inject, inject a failure into the PMD split, and tell
 * in @injected whether the failure was injected. Return the bounds of the
 * VMA containing @addr afterwards, and the number of VMAs.
 */
static int split_range_vma(struct test_range *range, unsigned long addr,
			   bool inject, bool *injected,
			   unsigned long *vm_start, unsigned long *vm_end,
			   int *map_count)
{
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	int err = -EFAULT;

	*injected = false;
	mmap_write_lock(range->mm);
	vma = vma_lookup(range->mm, addr);
	if (vma) {
		vma_iter_init(&vmi, range->mm, addr);
		if (inject)
			inject_failure();
		err = split_vma(&vmi, vma, addr, 1);
		if (inject)
			*injected = failure_injected();
	}
	vma = vma_lookup(range->mm, addr);
	*vm_start = vma ? vma->vm_start : 0;
	*vm_end = vma ? vma->vm_end : 0;
	*map_count = range->mm->map_count;
	mmap_write_unlock(range->mm);

	return err;
}

/*
 * A VMA split that fails to split the huge PMD straddling the new
 * boundary leaves the VMA and the PMD as they were, and can be retried.
 */
static void failed_split_vma(struct kunit *test)
{
	unsigned long addr, vm_start, vm_end;
	struct split_events events;
	struct split_state before;
	struct test_range range;
	int map_count, err;
	bool injected;

	require_fault_injection(test);
	map_thp(test, &range);
	addr = range.addr + HPAGE_PMD_SIZE / 2;
	read_split_events(test, &events);
	save_state(&range, &before);

	err = split_range_vma(&range, addr, true, &injected, &vm_start,
			      &vm_end, &map_count);
	KUNIT_EXPECT_EQ(test, err, -ENOMEM);
	KUNIT_EXPECT_TRUE(test, injected);
	KUNIT_EXPECT_EQ(test, vm_start, range.start);
	KUNIT_EXPECT_EQ(test, vm_end, range.start + range.len);
	KUNIT_EXPECT_EQ(test, map_count, 1);
	expect_state_unchanged(test, &range, &before);
	expect_data(test, &range, false);
	expect_split_events(test, &events, 0, 1);

	err = split_range_vma(&range, addr, false, &injected, &vm_start,
			      &vm_end, &map_count);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, vm_start, addr);
	KUNIT_EXPECT_EQ(test, vm_end, range.start + range.len);
	KUNIT_EXPECT_EQ(test, map_count, 2);
	expect_pte_mapped(test, &range, false);
	expect_data(test, &range, false);
	expect_split_events(test, &events, 1, 1);
}

/*
 * munmap() of a page of a THP cannot fail: the split it does is not a
 * fault injection point, so the failure armed for this task stays armed.
 */
static void munmap_cannot_fail(struct kunit *test)
{
	struct split_events events;
	struct test_range range;
	unsigned long hole;
	bool injected, mapped;
	int map_count, err;

	require_fault_injection(test);
	map_thp(test, &range);
	hole = range.addr + PAGE_SIZE;
	read_split_events(test, &events);

	inject_failure();
	err = vm_munmap(hole, PAGE_SIZE);
	injected = failure_injected();
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_FALSE(test, injected);

	mmap_read_lock(range.mm);
	mapped = vma_lookup(range.mm, hole);
	map_count = range.mm->map_count;
	mmap_read_unlock(range.mm);

	KUNIT_EXPECT_FALSE(test, mapped);
	KUNIT_EXPECT_EQ(test, map_count, 2);
	KUNIT_EXPECT_EQ(test, count_bad_pages(&range, 0, 1, false), 0);
	KUNIT_EXPECT_EQ(test, count_bad_pages(&range, 2, HPAGE_PMD_NR, false),
			0);
	expect_split_events(test, &events, 1, 0);
}

/*
 * MADV_DONTNEED of a page of a THP cannot fail either: the zap splits the
 * PMD with a split that is no fault injection point, and the failure armed
 * for this task stays armed. The page reads as zero, the others as before.
 */
static void dontneed_cannot_fail(struct kunit *test)
{
	struct split_events events;
	struct test_range range;
	bool injected;
	int err;

	require_fault_injection(test);
	map_thp(test, &range);
	read_split_events(test, &events);

	inject_failure();
	err = do_madvise(range.mm, range.addr + PAGE_SIZE, PAGE_SIZE,
			 MADV_DONTNEED);
	injected = failure_injected();
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_FALSE(test, injected);

	KUNIT_EXPECT_EQ(test, count_bad_pages(&range, 0, 1, false), 0);
	KUNIT_EXPECT_EQ(test, count_bad_pages(&range, 1, 2, true), 0);
	KUNIT_EXPECT_EQ(test, count_bad_pages(&range, 2, HPAGE_PMD_NR, false),
			0);
	expect_split_events(test, &events, 1, 0);
}

#ifdef CONFIG_DEVICE_MIGRATION
/* The owner of the migrations below: no device memory has this owner. */
static int migrate_owner;

/*
 * Collect the THP of the test range for migration with migrate_vma_setup(),
 * give it order-0 destination pages (the first @nr_dst), copy the data if
 * @copy, and call migrate_vma_pages() and migrate_vma_finalize(), with a
 * failure injected into the PMD split if @inject. Return how many pages of
 * the THP were collected as one compound entry (1 or 0), and in @migrated
 * how many migrated.
 */
static int migrate_range(struct kunit *test, struct test_range *range,
			 unsigned long nr_dst, bool copy, bool inject,
			 bool *injected, unsigned long *migrated)
{
	struct migrate_vma args = {
		.start = range->addr,
		.end = range->addr + HPAGE_PMD_SIZE,
		.pgmap_owner = &migrate_owner,
		.flags = MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_SELECT_COMPOUND,
	};
	struct page *src_page = NULL;
	unsigned long i;
	int collected = 0;

	*injected = false;
	*migrated = 0;
	args.src = kunit_kcalloc(test, HPAGE_PMD_NR, sizeof(*args.src),
				 GFP_KERNEL);
	args.dst = kunit_kcalloc(test, HPAGE_PMD_NR, sizeof(*args.dst),
				 GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, args.src);
	KUNIT_ASSERT_NOT_NULL(test, args.dst);

	mmap_read_lock(range->mm);
	args.vma = vma_lookup(range->mm, range->addr);
	if (!args.vma || migrate_vma_setup(&args))
		goto unlock;

	if (args.cpages == 1 && (args.src[0] & MIGRATE_PFN_MIGRATE) &&
	    (args.src[0] & MIGRATE_PFN_COMPOUND)) {
		collected = 1;
		src_page = migrate_pfn_to_page(args.src[0]);
	}

	for (i = 0; collected && i < nr_dst; i++) {
		struct page *page = alloc_page(GFP_HIGHUSER_MOVABLE);

		if (!page)
			break;
		if (copy)
			copy_highpage(page, src_page + i);
		lock_page(page);
		args.dst[i] = migrate_pfn(page_to_pfn(page));
	}

	if (inject)
		inject_failure();
	migrate_vma_pages(&args);
	if (inject)
		*injected = failure_injected();

	for (i = 0; i < HPAGE_PMD_NR; i++)
		if (args.src[i] & MIGRATE_PFN_MIGRATE)
			(*migrated)++;
	migrate_vma_finalize(&args);
unlock:
	mmap_read_unlock(range->mm);

	kunit_kfree(test, args.src);
	kunit_kfree(test, args.dst);
	return collected;
}

/*
 * Map a THP for a migration: without the reference that map_thp() keeps,
 * as an extra reference makes a folio impossible to migrate.
 */
static void map_thp_for_migration(struct kunit *test,
				  struct test_range *range)
{
	map_thp(test, range);
	kunit_release_action(test, folio_put_action, range->folio);
}

/* Is the THP still mapped by the PMD of the test range? */
static bool thp_pmd_mapped(struct test_range *range)
{
	bool mapped = false;
	spinlock_t *ptl;	/* Page table lock. */
	pmd_t pmdval;

	mmap_read_lock(range->mm);
	ptl = pmd_lock(range->mm, range->pmd);
	pmdval = pmdp_get(range->pmd);
	if (pmd_trans_huge(pmdval) && pmd_folio(pmdval) == range->folio)
		mapped = true;
	spin_unlock(ptl);
	mmap_read_unlock(range->mm);

	return mapped;
}

/*
 * A device migration that needs to split the PMD of a THP, and cannot,
 * leaves the THP where it was, mapped as before, and puts every reference
 * it took: the folio's reference count is the same as before.
 */
static void failed_migration_split(struct kunit *test)
{
	struct split_events events;
	struct split_state before, after;
	struct test_range range;
	unsigned long migrated;
	int collected;
	bool injected;

	require_fault_injection(test);
	map_thp_for_migration(test, &range);
	read_split_events(test, &events);
	save_state(&range, &before);

	collected = migrate_range(test, &range, 1, false, true, &injected,
				  &migrated);
	KUNIT_ASSERT_EQ_MSG(test, collected, 1,
			    "the THP was not collected for migration");
	KUNIT_EXPECT_TRUE(test, injected);
	KUNIT_EXPECT_EQ(test, migrated, 0);

	/*
	 * The PMD went through a migration entry and back, so its
	 * accessed and dirty bits may differ: check what it maps.
	 */
	KUNIT_EXPECT_TRUE(test, thp_pmd_mapped(&range));
	save_state(&range, &after);
	KUNIT_EXPECT_EQ(test, after.refcount, before.refcount);
	KUNIT_EXPECT_EQ(test, after.mapcount, before.mapcount);
	KUNIT_EXPECT_EQ(test, after.entire_mapcount, before.entire_mapcount);
	KUNIT_EXPECT_EQ(test, after.pgtables_bytes, before.pgtables_bytes);
	expect_data(test, &range, false);
	expect_split_events(test, &events, 0, 1);
}

/*
 * After a failed split, the same migration without a failure splits the
 * THP and migrates all of its pages.
 */
static void migration_after_failed_split(struct kunit *test)
{
	struct split_events events;
	struct test_range range;
	unsigned long migrated;
	int collected;
	bool injected;

	require_fault_injection(test);
	map_thp_for_migration(test, &range);
	read_split_events(test, &events);

	collected = migrate_range(test, &range, 1, false, true, &injected,
				  &migrated);
	KUNIT_ASSERT_EQ(test, collected, 1);
	KUNIT_EXPECT_TRUE(test, injected);
	KUNIT_EXPECT_EQ(test, migrated, 0);

	collected = migrate_range(test, &range, HPAGE_PMD_NR, true, false,
				  &injected, &migrated);
	KUNIT_ASSERT_EQ(test, collected, 1);
	KUNIT_EXPECT_EQ(test, migrated, HPAGE_PMD_NR);
	KUNIT_EXPECT_FALSE(test, thp_pmd_mapped(&range));
	expect_data(test, &range, false);
	expect_split_events(test, &events, 1, 1);
}
#else
static void failed_migration_split(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DEVICE_MIGRATION=y");
}

static void migration_after_failed_split(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DEVICE_MIGRATION=y");
}
#endif /* CONFIG_DEVICE_MIGRATION */

static struct kunit_case split_huge_pmd_test_cases[] = {
	KUNIT_CASE(split_maps_pages_with_ptes),
	KUNIT_CASE(thp_holds_table_only_if_deposited),
	KUNIT_CASE(failed_split_changes_nothing),
	KUNIT_CASE(split_after_failure),
	KUNIT_CASE(split_huge_zero_pmd),
	KUNIT_CASE(failed_huge_zero_pmd_split),
	KUNIT_CASE(nothing_to_split),
	KUNIT_CASE(reclaim_splits_thp),
	KUNIT_CASE(reclaim_skips_mlocked_thp),
	KUNIT_CASE(reclaim_skips_pinned_thp),
	KUNIT_CASE(failed_split_vma),
	KUNIT_CASE(munmap_cannot_fail),
	KUNIT_CASE(dontneed_cannot_fail),
	KUNIT_CASE(failed_migration_split),
	KUNIT_CASE(migration_after_failed_split),
	{}
};

static struct kunit_suite split_huge_pmd_test_suite = {
	.name = "split_huge_pmd",
	.test_cases = split_huge_pmd_test_cases,
};

kunit_test_suite(split_huge_pmd_test_suite);

MODULE_DESCRIPTION("KUnit tests for splitting huge PMDs");
MODULE_LICENSE("GPL");
