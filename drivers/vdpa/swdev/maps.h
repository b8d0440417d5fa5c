/* SPDX-License-Identifier: GPL-2.0 */
/* maps.c, for the software-device core only. */
#ifndef _VDPA_SWDEV_MAPS_H
#define _VDPA_SWDEV_MAPS_H

#include "swdev.h"

/* Whether the device is bound to the bus driver called @name. */
static inline bool vdpa_sw_bound_to(struct vdpa_sw *sim, const char *name)
{
	struct device_driver *drv = READ_ONCE(sim->vdpa.dev.driver);

	return drv && !strcmp(drv->name, name);
}

/*
 * A map was removed or replaced: translations vringh cached for the
 * device's queues are stale.  Caller holds &vdpa_sw.iommu_lock.
 */
static inline void vdpa_sw_maps_changed(struct vdpa_sw *sim)
{
	lockdep_assert_held(&sim->iommu_lock);
	WRITE_ONCE(sim->map_gen, sim->map_gen + 1);
}

bool vdpa_sw_dma_keeps(struct vdpa_sw *sim, u32 asid);
int vdpa_sw_maps_init(struct vdpa_sw *sim);
void vdpa_sw_maps_exit(struct vdpa_sw *sim);
void vdpa_sw_maps_show_add(struct vdpa_sw *sim);
void vdpa_sw_maps_show_remove(struct vdpa_sw *sim);
int vdpa_sw_maps_module_init(void);
void vdpa_sw_maps_module_exit(void);

#endif /* _VDPA_SWDEV_MAPS_H */
