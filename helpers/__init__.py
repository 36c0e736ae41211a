"""Transfer Lab's helpers: the code the notebooks import, each module short enough to read beside a notebook.

Code map, lowest layer first: a module imports only modules listed above it.
    core          where the project's files are, the Dataset type, DataError, atomic writes
    characters    how the source task's printed letters were drawn from matplotlib's fonts (make letters)
    data          the datasets, all offline: Fashion-MNIST and the letters from data/, scikit-learn's digits, subsets
    models        the small CNN: a backbone of named blocks, then a linear head
    train         fit, predict, evaluate: the training loop written out in plain PyTorch
    cost          parameters, FLOPs, seconds, and a Ledger that compares runs
    stats         a mean with its 95% interval, paired differences seed by seed, effective data transferred
    checkpoint    save and load a model with its classes, recipe and accuracy
    transfer      replace_head, freeze, unfreeze, param_groups, linear probes, gradual unfreezing
    experiment    the layer the studies share: trial keys, the results cache, the one-thread runner, recipe choice
    trials        one training run per trial of the comparison, and the plan of the sweep
    results       the shipped results of the sweep: chosen settings, summaries, paired statistics
    what_transfers  notebook 06's studies: which layers, which source, negative transfer, forgetting
    text          notebook 07's texts (Austen, Shakespeare), checked by SHA-256; characters as tokens
    gpt           the tiny GPT: embeddings, causal self-attention blocks, a language-model head
    language      pretrain and fine-tune it, freeze all but the last block, LoRA, a text classifier
    language_study  notebook 07's comparison: generative and classification runs, recipes, paired summaries
    pretrained    two released models, offline: all-MiniLM-L6-v2 and MobileNetV2 from pinned wheels, SHA-256 checked
    pretrained_study  notebook 08's comparison: released models against the miniature, the scale axis: plans and runs
    pretrained_results  notebook 08's results read back: tidy runs, paired comparisons, the scale axis, compute
    viz           plots for the lessons, each a matplotlib Figure with a title and labelled axes
    story         the pieces of every notebook's sentences: budgets, lists, intervals, Markdown tables
    story_02_05   notebooks 02-05's sentences and tables, each computed from the results it states
    story_06      notebook 06's sentences and tables, each computed from the studies' results
    story_07      notebook 07's sentences and tables, each computed from the language study's results
    story_08      notebook 08's sentences and tables, and 08's results as 05 and 07 state them
    checks        exercise checks, the core: right or not, a hint that names the likely mistake, test models
    checks_01     notebook 01's exercise checks, on the skeleton of checks (and checks_02 ... checks_08 likewise)
    checks_02     notebook 02's exercise checks
    checks_03     notebook 03's exercise checks
    checks_04     notebook 04's exercise checks
    checks_05     notebook 05's exercise checks
    checks_06     notebook 06's exercise checks
    checks_07     notebook 07's exercise checks
    checks_08     notebook 08's exercise checks
    widgets       thin ipywidgets controls over viz and results

The machinery that builds what ships sits apart in tools/, which nothing here imports:
    tools.demo                     executes every notebook headless into build/ (make demo)
    tools.run_notebook             executes one notebook through a kernel; an offline HTML copy
    tools.kernel_client            the kernel client that cannot miss a reply (make demo; nbconvert via jupyter_config)
    tools.sweep                    runs the sweeps and caches their results (make rebuild-caches)
    tools.letters                  draws the printed letters again, compares them with data/letters/ (make letters)
    tools.pretrain                 rebuilds the shipped checkpoints (make pretrain, make pretrain-sources)
    tools.pretrain_lm              rebuilds notebook 07's tiny GPT (make pretrain-lm)
    tools.corpus                   rebuilds notebook 07's texts from two registry packages (make corpus)
    tools.editions                 the student and instructor editions of the notebooks (make student, make instructor)
    tools.check_notebooks_clean    notebooks carry no outputs (the pre-commit hook and a test)
    tools.reading_times            each notebook's reading time, by a stated method, into its header, README, guide
    tools.hub_client               a student at a JupyterHub from Python: log in, start a server, run a notebook
"""
