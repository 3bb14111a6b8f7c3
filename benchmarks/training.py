"""Peak memory of training: the unpruned fit and both pruned fine-tunes, in one process."""

from __future__ import annotations

from .common import PROFILE

#: Memory is flat after the first epoch: a short fit peaks where the full budget does.
#: One epoch is 168 steps on the quick and full data, past tfmot's first mask update (100).
SHORT_EPOCHS = 1


class Training:
    # 2: one epoch per fit instead of two.
    version = "2"
    timeout = 900.0

    def peakmem_train(self):
        """Peak RSS of building, fitting, pruning and fine-tuning the three experiments."""
        from prunebench import config, experiments, kerasenv, models, pruning, tasks, train

        profile = config.get_profile(PROFILE)
        short = config.TrainConfig(epochs=SHORT_EPOCHS, patience=SHORT_EPOCHS)
        task = tasks.builtin(config.SEED_TASK)
        dataset = task.load_data(profile.data)
        kerasenv.seed_everything(0)
        base = task.build(dataset)
        task.compile(base)
        train.train(base, dataset, short)
        for experiment in experiments.resolve(None)[1:]:
            wrapped = pruning.apply_pruning(models.copy_model(base), experiment.prune,
                                            task.partial_layers)
            task.compile(wrapped)
            train.train(wrapped, dataset, short, callbacks=pruning.callbacks())
            pruning.strip(wrapped)
