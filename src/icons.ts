import { LabIcon } from '@jupyterlab/ui-components';
// Resolved by webpack from the compiled lib/src/icons.js (lib/ mirrors src/ and
// contract/), so the path climbs two folders to the repository's style/.
import svg from '../../style/icons/hpc.svg';

export const hpcIcon = new LabIcon({ name: 'jupyterlab-hpc-submit:hpc', svgstr: svg });
