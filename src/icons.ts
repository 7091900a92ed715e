import { LabIcon } from '@jupyterlab/ui-components';
import svg from '../style/icons/hpc.svg';

export const hpcIcon = new LabIcon({ name: 'jupyterlab-hpc-submit:hpc', svgstr: svg });
