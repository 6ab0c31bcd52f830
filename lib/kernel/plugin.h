/* plugin.h - event models loaded from shared objects (braid_model_load in
 * braid.h) and the identity a trace header gives a model. */
#ifndef BRAID_PLUGIN_H
#define BRAID_PLUGIN_H

#include "common/common.h"

/* Writes the identity of `m` as a trace header names it into buf: "" for a
 * built-in model, "name version xxh3-of-file" for a model loaded by
 * braid_model_load(), "name version -" for one compiled into the program. */
void braid__model_id(const braid_model *m, char *buf, size_t len);
/* Whether `path` names (by any name or link) the file of a plugin loaded in
 * this process: writing it would truncate code that is mapped and running.
 * The plugin's path as it was loaded goes into buf. */
int braid__is_loaded_plugin(const char *path, char *buf, size_t len);
/* Whether a checkpoint can hold the model's private state: a model of ABI
 * 2 or later with both save and load (braid.h).  Only such a model's struct
 * is read past max_delay. */
int braid__model_can_save(const braid_model *m);

#endif
