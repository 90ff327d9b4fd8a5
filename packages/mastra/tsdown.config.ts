import { library } from '../../scripts/build/tsdown-base.ts';

export default library({ index: 'src/index.ts' }, { platform: 'neutral' });
